"""Small files in each published format, written by the tests; the shared-data location."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO / ".." / "shared" / "data"

BOM = "\ufeff"
#: (id, BOM, line end) variants every loader must read identically.
VARIANTS = [
    pytest.param("", "\n", id="LF"),
    pytest.param(BOM, "\n", id="BOM-LF"),
    pytest.param(BOM, "\r\n", id="BOM-CRLF"),
    pytest.param("", "\r", id="CR"),
    pytest.param(BOM, "\r", id="BOM-CR"),
    pytest.param("", "\r\r\n", id="CRCRLF"),
]


def write(
    path: Path, lines: Sequence[str], *, bom: str = "", eol: str = "\n", final: bool = True
) -> Path:
    """Write ``lines`` as UTF-8 with the given BOM and line end (and a final line end or not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = bom + eol.join(lines) + (eol if final else "")
    path.write_bytes(text.encode("utf-8"))
    return path


AI4I_HEADER = (
    "UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],"
    "Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF"
)
AI4I_ROWS = [
    "1,M14860,M,298.1,308.6,1551,42.8,0,0,0,0,0,0,0",
    "2,L47181,L,298.2,308.7,1408,46.3,3,0,0,0,0,0,0",
    "3,L47182,L,298.1,308.5,1498,49.4,5,0,0,0,0,0,0",
    "4,H29424,H,298.2,308.6,1433,39.5,7,1,1,0,0,0,0",
    "5,L47184,L,298.2,308.7,1408,40,9,1,0,0,0,0,0",
    "6,M14865,M,298.1,308.6,1425,41.9,11,0,0,0,0,0,1",
]

STEEL_HEADER = (
    "date,Usage_kWh,Lagging_Current_Reactive.Power_kVarh,Leading_Current_Reactive_Power_kVarh,"
    "CO2(tCO2),Lagging_Current_Power_Factor,Leading_Current_Power_Factor,NSM,WeekStatus,"
    "Day_of_week,Load_Type"
)
STEEL_ROWS = [
    "01-01-2018 23:15,3.53,3.42,0,0,71.82,100,83700,Weekday,Monday,Light_Load",
    "01-01-2018 23:30,3.24,2.95,0,0,73.94,100,84600,Weekday,Monday,Light_Load",
    "01-01-2018 23:45,3.67,3.96,0,0,67.97,100,85500,Weekday,Monday,Light_Load",
    "01-01-2018 00:00,3.42,3.46,0,0,70.3,100,0,Weekday,Monday,Light_Load",
    "02-01-2018 00:15,3.2,3.1,0,0,71.82,100,900,Weekday,Tuesday,Light_Load",
    "02-01-2018 00:30,3.85,4.61,0,0,64.1,100,1800,Weekday,Tuesday,Medium_Load",
    "02-01-2018 00:45,3.28,3.67,0,0.02,66.64,100,2700,Weekday,Tuesday,Maximum_Load",
]

SCMS_HEADER = (
    "ID,Project Code,PQ #,PO / SO #,ASN/DN #,Country,Managed By,Fulfill Via,Vendor INCO Term,"
    "Shipment Mode,PQ First Sent to Client Date,PO Sent to Vendor Date,Scheduled Delivery Date,"
    "Delivered to Client Date,Delivery Recorded Date,Product Group,Sub Classification,Vendor,"
    "Item Description,Molecule/Test Type,Brand,Dosage,Dosage Form,Unit of Measure (Per Pack),"
    "Line Item Quantity,Line Item Value,Pack Price,Unit Price,Manufacturing Site,"
    "First Line Designation,Weight (Kilograms),Freight Cost (USD),Line Item Insurance (USD)"
)
SCMS_ROWS = [
    "1,100-CI-T01,Pre-PQ Process,SCMS-4,ASN-8,Côte d'Ivoire,PMO - US,Direct Drop,EXW,Air,"
    "Pre-PQ Process,Date Not Captured,2-Jun-06,2-Jun-06,2-Jun-06,HRDT,HIV test,"
    'RANBAXY Fine Chemicals LTD.,"HIV, Reveal G3 Rapid HIV-1 Antibody Test, 30 Tests",'
    '"HIV, Reveal G3 Rapid HIV-1 Antibody Test",Reveal,N/A,Test kit,30,19,551,29,0.97,'
    "Ranbaxy Fine Chemicals LTD,Yes,13,780.34,",
    "44,110-ZM-T01,Pre-PQ Process,SCMS-139,ASN-130,Zambia,PMO - US,Direct Drop,DDU,Air,"
    "Pre-PQ Process,Date Not Captured,8-Jan-07,8-Jan-07,8-Jan-07,ARV,Pediatric,"
    "MERCK SHARP & DOHME IDEA GMBH (FORMALLY MERCK SHARP & DOHME B.V.),"
    '"Efavirenz 200mg [Stocrin/Sustiva], capsule, 90 Caps",Efavirenz,Stocrin/Sustiva,200mg,'
    "Capsule,90,135,4374,32.4,0.36,MSD South Granville Australia,Yes,328,"
    "Freight Included in Commodity Cost,",
    "46,112-NG-T01,Pre-PQ Process,SCMS-156,ASN-93,Nigeria,PMO - US,Direct Drop,EXW,Air,"
    "Pre-PQ Process,Date Not Captured,7-Dec-06,7-Dec-06,7-Dec-06,ARV,Adult,"
    'Aurobindo Pharma Limited,"Stavudine 30mg, capsules, 60 Caps",Stavudine,Generic,30mg,'
    'Capsule,60,273,532.35,1.95,0.03,"Aurobindo Unit III, India",No,'
    "See ASN-93 (ID#:1281),See ASN-93 (ID#:1281),",
    "62,102-NG-T01,Pre-PQ Process,SCMS-230,ASN-144,Nigeria,PMO - US,Direct Drop,EXW,Air,"
    "Pre-PQ Process,Date Not Captured,10-Jan-07,10-Jan-07,10-Jan-07,HRDT,HIV test,"
    'EY Laboratories,"HIV 1/2, InstantChek HIV 1+2 Kit, 100 Tests",'
    '"HIV 1/2, InstantChek HIV 1+2 Kit",InstantCHEK,N/A,Test kit,100,10,850,85,0.85,'
    '"EY Laboratories, USA",Yes,Weight Captured Separately,Invoiced Separately,',
    "10534,110-ZM-T01,Pre-PQ Process,SO-220,DN-4,Zambia,PMO - US,From RDC,N/A - From RDC,N/A,"
    "Pre-PQ Process,N/A - From RDC,2-Feb-07,2-Feb-07,2-Feb-07,ARV,Adult,SCMS from RDC,"
    '"Nelfinavir (as mesilate) 250mg [Viracept], tablets, 270 Tabs",Nelfinavir (as mesilate),'
    "Viracept,250mg,Tablet,270,228,17948.16,78.72,0.29,Roche Madrid,Yes,60,1218.91,",
    "13038,161-ZA-T30,FPQ-7175,SCMS-103410,ASN-12172,South Africa,PMO - US,Direct Drop,DDP,"
    "Ocean,3/10/11,3/24/11,14-Sep-11,27-Oct-11,27-Oct-11,ARV,Pediatric,"
    'Aurobindo Pharma Limited,"Efavirenz 50mg, capsule, 30 Caps",Efavirenz,Generic,50mg,'
    'Capsule,30,54768,133633.92,2.44,0.08,"Aurobindo Unit III, India",Yes,3237,10923.46,220.5',
]


def cmapss_lines(n_units: int, seed: int, *, max_cycles: int = 9) -> list[str]:
    """Trajectory lines in the published layout: 26 numbers, two trailing spaces."""
    rng = np.random.default_rng(seed)
    lines = []
    for unit in range(1, n_units + 1):
        for cycle in range(1, int(rng.integers(3, max_cycles)) + 1):
            settings = [f"{rng.normal(0, 0.002):.4f}", f"{rng.normal(0, 0.0003):.4f}", "100.0"]
            sensors = [f"{v:.4f}" for v in rng.uniform(0.02, 9000.0, 21)]
            lines.append(" ".join([str(unit), str(cycle), *settings, *sensors]) + "  ")
    return lines


def write_cmapss(
    folder: Path, subset: str = "FD001", *, bom: str = "", eol: str = "\n"
) -> dict[str, list[str]]:
    train = cmapss_lines(4, 1)
    test = cmapss_lines(3, 2)
    rul = ["112 ", "98 ", "69 "]
    write(folder / f"train_{subset}.txt", train, bom=bom, eol=eol)
    write(folder / f"test_{subset}.txt", test, bom=bom, eol=eol)
    write(folder / f"RUL_{subset}.txt", rul, bom=bom, eol=eol)
    return {"train": train, "test": test, "rul": rul}


SECOM_TIMES = [
    "19/07/2008 11:55:00",
    "19/07/2008 12:32:00",
    "02/08/2008 08:05:00",
    "08/08/2008 21:13:00",
    "11/09/2008 03:34:00",
    "17/10/2008 06:07:00",
]
SECOM_LABELS = [-1, -1, 1, -1, 1, -1]


def secom_matrix(n: int = len(SECOM_TIMES), seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(100.0, 30.0, (n, 590)), 4)
    x[rng.random((n, 590)) < 0.05] = np.nan
    x[:, 5] = 100.0  # a constant feature, as in the published data
    return x


def secom_data_lines(x: np.ndarray) -> list[str]:
    return [" ".join("NaN" if np.isnan(v) else f"{v:.10g}" for v in row) for row in x]


def secom_label_lines() -> list[str]:
    return [f'{lab} "{t}"' for lab, t in zip(SECOM_LABELS, SECOM_TIMES, strict=True)]


def csv_time(label_time: str) -> str:
    """The CSV version's Time: ISO, with day and month swapped where the day is 12 or less."""
    day, month, rest = label_time[:2], label_time[3:5], label_time[6:]
    year, clock = rest.split(" ")
    if int(day) <= 12:
        day, month = month, day
    return f"{year}-{month}-{day} {clock}"


def secom_csv_lines(x: np.ndarray) -> list[str]:
    header = "Time," + ",".join(str(i) for i in range(590)) + ",Pass/Fail"
    rows = [
        csv_time(t) + "," + ",".join("" if np.isnan(v) else f"{v:.10g}" for v in row) + f",{lab}"
        for row, t, lab in zip(x, SECOM_TIMES, SECOM_LABELS, strict=True)
    ]
    return [header, *rows]
