"""Text cells of the CSV files people open in a spreadsheet.

A cell that starts like a formula is run by Excel, LibreOffice and Google Sheets (CSV injection): a name
typed on the booking page as `=HYPERLINK(...)` would become a link in the owner's export. A leading
apostrophe makes such a cell plain text; the customer import drops it again.
"""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value
