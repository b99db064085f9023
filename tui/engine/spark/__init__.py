"""The Spark engine (SPEC §9): the same analysis as the DuckDB engine, run on Apache Spark.

Imports every stage (it is the top layer beside `findings`); nothing in the engine imports it.
"""
