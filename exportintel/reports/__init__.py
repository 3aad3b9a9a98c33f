"""Reports for analysts over the lake and the models (`exportintel report`).

Kept out of the package's import: matplotlib and pandas load only when a report is written.
"""
