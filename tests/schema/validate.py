# SPDX-License-Identifier: GPL-2.0-or-later
"""Validate tunnelctl --json replies against tests/schema/tunnelctl.schema.json.

  validate.py SCHEMA DEF FILE...   each FILE holds one reply; DEF names the
                                    $defs entry it must match ("status", ...)

Exit 0 when every reply matches, 1 naming the first that does not (path in
the document and the reason), 2 for a schema that is itself invalid.  Uses
Debian's python3-jsonschema (draft 2020-12)."""
import json
import sys

import jsonschema


def main():
    schema_path, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        print(f"{schema_path}: not a valid schema: {e.message}")
        return 2
    if name not in schema["$defs"]:
        print(f"{schema_path}: no $defs/{name}")
        return 2
    # The whole schema with the one definition as its root, so $refs resolve.
    one = dict(schema, **{"$ref": f"#/$defs/{name}"})
    del one["oneOf"]
    validator = jsonschema.Draft202012Validator(one)
    for path in files:
        with open(path, encoding="utf-8") as f:
            try:
                doc = json.load(f)
            except ValueError as e:
                print(f"{path}: not JSON: {e}")
                return 1
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path) or "(top)"
            print(f"{path}: {name}: at {where}: {e.message}")
            return 1
        # The reply must also match the schema as a whole (one kind only).
        try:
            jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as e:
            print(f"{path}: the whole schema: {e.message}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
