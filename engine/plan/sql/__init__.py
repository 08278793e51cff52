"""The SQL lowering of the IR (SQL 下推) and its backends: the policy's stages as sqlglot
expression trees, run on DuckDB (`duckdb_runner`) or Spark (`spark_runner`), read back as the
polars plan's frames (`results`), byte-identical outputs (`docs/backends.md`).

- `build`: small builders of sqlglot trees;
- `expressions`: IR expressions → trees (`Lowering`), the row-wise built-ins;
- `aggregates`: aggregates to a coarser grain, exact sums;
- `classes`: classification, matches, adjustments, table lookups;
- `windows`: `rank … within` and `allocate`;
- `plan`: one stage's tables per grain (`SqlStageRun`);
- `results`: reading the tables back; the finite check;
- `refuse`: constructs a backend cannot run, refused before anything runs;
- `database`, `duckdb_runner`, `spark_runner`, `backends`: the databases and their choice.
"""
