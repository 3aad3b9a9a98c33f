"""Export Intelligence Platform core: contracts, data generation and the shared logic.

Kept free of heavy imports (pandas, numpy, pyspark) so Lambda bundles and the CLI start fast.
"""

__version__ = "0.1.0"
