"""Write the sample Excel workbook of a new local-folder .xlsx project, so that `invoke test` syncs right after copy.

A workbook is a ZIP of XML parts; this writes the few an .xlsx reader needs (one sheet, text as inline strings,
numbers as numbers) with the standard library, since Copier's Python has no openpyxl. The sheet's name and the row
of the header follow the answers; rows above the header hold a title, as vendors' reports do. An existing file is
left alone: the owner may have replaced it.

    python write_sample_workbook.py '{"path": ..., "sheet": ..., "header_row": 1, "rows": [[...], ...]}'
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

OPC = "http://schemas.openxmlformats.org/package/2006"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="{OPC}/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SPREADSHEET}.worksheet+xml"/>
</Types>"""
PACKAGE_RELATIONSHIPS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{OPC}/relationships">
<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK_RELATIONSHIPS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{OPC}/relationships">
<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{OFFICE}">
<sheets><sheet name={{name}} sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"""


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell(reference: str, value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{reference}"><v>{value}</v></c>'
    text = escape(str(value))
    return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def sheet_xml(rows: list[list[object]], header_row: int) -> str:
    numbered = [(1, ["Sample orders: replace this workbook with your own"])] if header_row > 1 else []
    numbered += [(header_row + offset, row) for offset, row in enumerate(rows)]
    parts = []
    for number, row in numbered:
        cells = "".join(cell(f"{column_letter(index)}{number}", value) for index, value in enumerate(row))
        parts.append(f'<row r="{number}">{cells}</row>')
    return SHEET.format(rows="".join(parts))


def main(sample: dict) -> int:
    path = Path(sample["path"])
    if path.exists():
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as workbook:
        workbook.writestr("[Content_Types].xml", CONTENT_TYPES)
        workbook.writestr("_rels/.rels", PACKAGE_RELATIONSHIPS)
        workbook.writestr("xl/workbook.xml", WORKBOOK.format(name=quoteattr(sample["sheet"] or "Sheet1")))
        workbook.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELATIONSHIPS)
        workbook.writestr("xl/worksheets/sheet1.xml", sheet_xml(sample["rows"], int(sample["header_row"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
