"""The plan (执行计划): a policy's stages lowered for a backend — `polars` (the default, in process)
and `sql` (DuckDB, Spark) side by side — and what every lowering shares: money to the fen, the
row-wise built-ins, exact sums, values set from outside."""
