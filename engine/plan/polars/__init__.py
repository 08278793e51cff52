"""The polars plan (polars 执行计划): every definition of a stage over whole columns, aggregates and
windows, integer keys, the stage's frames per grain, the finite check."""
