"""Writes letters.jsonl: 500 membership records for letter-template.json.

Deterministic (a fixed seed), so the committed file can be regenerated exactly:
    python3 examples/gen_letters.py
"""
import json
import random
from pathlib import Path

FIRST = ["Alice", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Hugo", "Isla", "Jonas",
         "Kavya", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quentin", "Rosa", "Samuel", "Tara"]
LAST = ["Ashworth", "Bennett", "Cavendish", "Dalton", "Ellison", "Fairbairn", "Greenwood",
        "Hartley", "Ingram", "Jarvis", "Kendrick", "Lockwood", "Marlowe", "Newbury", "Oakes",
        "Pemberton", "Quayle", "Radcliffe", "Sinclair", "Thornton", "Underwood", "Whitlock"]
STREETS = ["Chesterton Road", "Mill Road", "Hills Road", "Trumpington Street", "Castle Street",
           "Huntingdon Road", "Newmarket Road", "Madingley Road", "Histon Road", "Station Road"]
CITIES = [("Cambridge", "CB"), ("Ely", "CB"), ("Newmarket", "CB"), ("Saffron Walden", "CB"),
          ("Royston", "SG"), ("Huntingdon", "PE"), ("St Ives", "PE")]


def main():
    rng = random.Random(2024)
    lines = []
    for i in range(1, 501):
        city, area = rng.choice(CITIES)
        years = rng.randint(1, 25)
        record = {
            "id": f"{i:04d}",
            "title": rng.choice(["Ms", "Mr", "Dr", "Mx"]),
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "street": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
            "postcode": f"{area}{rng.randint(1, 25)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
            "city": city,
            "member_no": f"RLA-{rng.randint(10000, 99999)}",
            "years": years,
            "expires": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "date": "2024-11-04",
            "fee": rng.choice([25, 30, 45]),
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    Path(__file__).with_name("letters.jsonl").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
