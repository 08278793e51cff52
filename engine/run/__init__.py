"""A settlement run and its outputs (结算运行与输出): the Python API (`settle`), the output folder
written atomically under a lock, the tables as CSV/Parquet/Excel, labels and decimals, the
indicators, the report, summaries, invariants, example tests, progress."""
