from django import template

register = template.Library()


@register.filter
def with_header(row, header):
    """A table row's cells paired with their column headings (the phone layout labels each cell)."""
    header = list(header)
    return [(header[i] if i < len(header) else "", cell) for i, cell in enumerate(row)]
