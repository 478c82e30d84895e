"""Hand-off of a plan: an Excel workbook, the list of owner changes, files a CRM imports."""

FORMATS = ("xlsx", "changes", "salesforce")
