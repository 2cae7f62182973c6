// npm run cost [-- file.graphql ...] [--supergraph supergraph.graphql] [--variables '{"n": 10}']
// The static cost (`@cost` / `@listSize`) of each operation in the files given (default
// operations/*.graphql) against a supergraph, as the gateway computes it, and the default
// budget (MAX_OPERATION_COST) it is held to. The README's dashboard costs come from here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CostCalculator } from '@fitsync/gateway';
import { DEFAULT_MAX_OPERATION_COST } from '@fitsync/service-kit';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { supergraph: { type: 'string', default: 'supergraph.graphql' }, variables: { type: 'string', default: '{}' } },
});
const files =
  positionals.length > 0
    ? positionals
    : readdirSync('operations')
        .filter((f) => f.endsWith('.graphql'))
        .sort()
        .map((f) => join('operations', f));
const calculator = CostCalculator.fromSupergraph(readFileSync(values.supergraph, 'utf8'));
const variables = JSON.parse(values.variables) as Record<string, unknown>;

console.log(`operation costs against ${values.supergraph} (default MAX_OPERATION_COST ${DEFAULT_MAX_OPERATION_COST}):`);
for (const file of files) {
  const document = parse(readFileSync(file, 'utf8'));
  for (const operation of document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)) {
    const cost = calculator.estimate(document, operation, variables);
    const verdict = cost > DEFAULT_MAX_OPERATION_COST ? 'over the default budget' : `${(DEFAULT_MAX_OPERATION_COST / Math.max(cost, 1)).toFixed(1)}x headroom`;
    console.log(`  ${(operation.name?.value ?? '(anonymous)').padEnd(24)} ${String(cost).padStart(9)}  ${verdict}  ${file}`);
  }
}
