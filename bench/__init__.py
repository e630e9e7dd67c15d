"""Benchmarks of deal-ledger against baselines measured in the same run.

Run `python -m bench` (see `bench/__main__.py`). Modules:
- `synth`: the deterministic synthetic ledger (realistic English and Chinese reports);
- `ledgers`: dataset files and cached big ledgers, built through `ledger import`;
- `backends`: SQLite files and PostgreSQL schemas, and the raw baselines on each;
- `proc`: running and timing whole `ledger` processes;
- `maxrss`: the helper process that measures one command's peak memory;
- `figures`: each measurement and its target;
- `report`: the table and the JSON document.
"""
