"""Open Referral HSDS 3.1: export the directory as HSDS JSON, import HSDS JSON and the CSV
tabular package (docs/directory.md). The official schemas are vendored in `schema/`."""
