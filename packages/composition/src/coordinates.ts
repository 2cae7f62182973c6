import { Kind, TypeInfo, getNamedType, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';

/**
 * The schema coordinates an operation touches (`Type`, `Type.field`,
 * `Type.field.argument`, `Input.field`, `Enum.VALUE`), read against the schema
 * it was written for. A breaking change at one of these paths breaks the operation.
 */
export function usedCoordinates(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const used = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field) return;
        used.add(`${parent.name}.${field.name}`);
        used.add(getNamedType(field.type).name);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent && field) used.add(`${parent.name}.${field.name}.${node.name.value}`);
      },
      ObjectField(node) {
        const input = typeInfo.getParentInputType();
        if (input) used.add(`${getNamedType(input).name}.${node.name.value}`);
      },
      EnumValue(node) {
        const type = typeInfo.getInputType();
        if (type) used.add(`${getNamedType(type).name}.${node.value}`);
      },
      NamedType(node) {
        used.add(node.name.value);
      },
      OperationDefinition(node) {
        const root = schema.getRootType(node.operation);
        if (root) used.add(root.name);
      },
      VariableDefinition(node) {
        let t = node.type;
        while (t.kind !== Kind.NAMED_TYPE) t = t.type;
        used.add(t.name.value);
      },
    }),
  );
  return used;
}
