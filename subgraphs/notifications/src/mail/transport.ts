import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MailConfig } from '@fitsync/service-kit';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

/** One email as the sender hands it over: `messageId` is derived from the delivery, so a resend carries the same. */
export type OutgoingMail = Mail.Options & { messageId: string };

/** Where mail goes: an SMTP server, or files. */
export interface MailTransport {
  /** `smtp://host:port` (no credentials), or the folder of `.eml` files. */
  readonly description: string;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** Why a send failed, as the sender acts on it: a permanent refusal is recorded and not retried; anything else is retried. */
export class MailRefused extends Error {
  override name = 'MailRefused';
}

/** An SMTP answer of 5xx (the server refuses this message for good: unknown mailbox, policy). */
export function isPermanentRefusal(err: unknown): boolean {
  const code = (err as { responseCode?: unknown }).responseCode;
  return err instanceof MailRefused || (typeof code === 'number' && code >= 500 && code < 600);
}

/** The error to record: the SMTP answer when there was one, never credentials. */
export function mailErrorText(err: unknown): string {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  if (typeof e.responseCode === 'number' && e.response) return e.response.slice(0, 500);
  return `${e.code ? `${e.code}: ` : ''}${(e.message ?? String(err)).slice(0, 500)}`;
}

/** The folder the embedded default writes to: `<DATA_DIR>/mail` (a temporary folder for in-memory data). */
export const mailFolder = (dataDir: string) => (dataDir.startsWith('memory://') ? join(tmpdir(), 'fitsync-mail') : resolve(dataDir, 'mail'));

/**
 * SMTP_URL set: nodemailer over SMTP (a new connection per message, so a server that went
 * away and came back is simply reached again). Unset: each message is written to
 * `<folder>/<delivery id>.eml` (to a temporary name renamed into place: a resend replaces it).
 */
export function createMailTransport(mail: MailConfig, dataDir: string): MailTransport {
  if (mail.smtpUrl) {
    const url = new URL(mail.smtpUrl);
    const transporter = nodemailer.createTransport(mail.smtpUrl);
    return {
      description: `${url.protocol}//${url.host}`,
      async send(message) {
        await transporter.sendMail(message);
      },
      close: () => transporter.close(),
    };
  }
  const folder = mailFolder(dataDir);
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    description: folder,
    async send(message) {
      const info = await composer.sendMail(message);
      await mkdir(folder, { recursive: true });
      const name = message.messageId.replace(/^<|>$/g, '').replace(/@.*$/, '');
      const temporary = join(folder, `.${name}.eml.tmp`);
      await writeFile(temporary, info.message as Buffer);
      await rename(temporary, join(folder, `${name}.eml`));
    },
    close: () => composer.close(),
  };
}
