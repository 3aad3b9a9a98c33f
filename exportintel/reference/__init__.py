"""Real reference data: HS chapters, countries and Korea's trade partners, ECB exchange rates.

Kept apart from the generator because the ETL, the API and the dashboard need the same
lists (chapter names in the two languages staff work in, country codes, currencies).
"""
