// Rules graphql-schema-linter lacks, in its custom-rule form: each export is a rule
// named by its function (DirectivesHaveDescriptions is `directives-have-descriptions`).
const { ValidationError } = require('graphql-schema-linter/lib/validation_error');

// Every kind of named type: the built-in types-are-capitalized checks objects and
// interfaces only, and only the first letter.
const typeKinds = {
  ScalarTypeDefinition: 'scalar',
  ObjectTypeDefinition: 'object',
  InterfaceTypeDefinition: 'interface',
  UnionTypeDefinition: 'union',
  EnumTypeDefinition: 'enum',
  InputObjectTypeDefinition: 'input object',
};

const pascalCase = /^[A-Z][a-zA-Z0-9]*$/;

function TypeNamesArePascalCase(context) {
  const visitor = {};
  for (const [kind, label] of Object.entries(typeKinds)) {
    visitor[kind] = (node) => {
      const name = node.name.value;
      if (!pascalCase.test(name)) {
        context.reportError(new ValidationError('type-names-are-pascal-case',
          `The ${label} type \`${name}\` should be PascalCase (letters and digits, starting with a capital).`, [node.name]));
      }
    };
  }
  return visitor;
}

function InputTypesEndWithInput(context) {
  return {
    InputObjectTypeDefinition(node) {
      const name = node.name.value;
      if (!name.endsWith('Input')) {
        context.reportError(new ValidationError('input-types-end-with-input',
          `The input object type \`${name}\` should end with \`Input\`.`, [node.name]));
      }
    },
  };
}

function DirectivesHaveDescriptions(context) {
  return {
    DirectiveDefinition(node) {
      if (!node.description || node.description.value.trim() === '') {
        context.reportError(new ValidationError('directives-have-descriptions',
          `The directive \`@${node.name.value}\` is missing a description.`, [node]));
      }
    },
  };
}

module.exports = { TypeNamesArePascalCase, InputTypesEndWithInput, DirectivesHaveDescriptions };
