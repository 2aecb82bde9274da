// Judges JSON documents with ajv (JSON Schema draft 2020-12) for ajv_agreement_test.cpp.
// Usage: node ajv_check.mjs <npm prefix holding node_modules/ajv and ajv-formats> <schema> <doc>...
// Prints one JSON object: {"<doc>": {"valid": true|false, "errors": [{"path", "message"}]}, ...};
// a document that is not JSON gets {"valid": false, "parse_error": "..."}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [prefix, schemaPath, ...documents] = process.argv.slice(2);
// ES modules ignore NODE_PATH; resolve the packages from the cache folder instead.
const require = createRequire(path.join(path.resolve(prefix), 'resolve-from-here.js'));
const ajvModule = require('ajv/dist/2020');
const Ajv2020 = ajvModule.default ?? ajvModule;
const formatsModule = require('ajv-formats');
const addFormats = formatsModule.default ?? formatsModule;

// strict: false, because the schema keeps its definitions under the draft-7 name "definitions".
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));

const verdicts = {};
for (const document of documents) {
  let data;
  try {
    data = JSON.parse(readFileSync(document, 'utf8'));
  } catch (e) {
    verdicts[document] = { valid: false, parse_error: String(e.message) };
    continue;
  }
  const valid = validate(data);
  verdicts[document] = {
    valid,
    errors: (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message })),
  };
}
process.stdout.write(JSON.stringify(verdicts));
