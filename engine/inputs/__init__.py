"""The data contract and loading (输入数据): the input tables' fields, reading CSV/Parquet,
validating into rejects, the budget, supervision inputs, earlier and previous runs read back, the
group catalogue, and a run's data cut to its period."""
