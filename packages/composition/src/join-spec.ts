import { Kind, type DocumentNode } from 'graphql';

/** The join spec's prefix in this supergraph: `join`, unless its `@link` renames it with `as:`. */
export function joinPrefix(document: DocumentNode): string {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION && definition.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of definition.directives ?? []) {
      if (link.name.value !== 'link' && link.name.value !== 'core') continue;
      const url = link.arguments?.find((a) => a.name.value === 'url' || a.name.value === 'feature')?.value;
      if (url?.kind !== Kind.STRING || !/\/join\/v\d/.test(url.value)) continue;
      const as = link.arguments?.find((a) => a.name.value === 'as')?.value;
      return as?.kind === Kind.STRING ? as.value : 'join';
    }
  }
  return 'join';
}
