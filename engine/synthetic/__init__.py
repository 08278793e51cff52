"""The synthetic city (示范数据): `drgpolicy sample`, deterministic by seed, written in parts for
large sizes, with its monitoring and supervision columns."""
