"""Build ADaM datasets (ADSL, ADQS, ADEFF, ADLB, ADTTE, ADAE, ADEX) from a simulated study.

Every variable has an ADaM name (<= 8 characters) and a label (<= 40
characters), declared in :data:`SPECS`; :func:`build_adam` returns the data
frames in that column order with ``df.attrs["label"]`` (dataset label) and
``df.attrs["labels"]`` (variable -> label). Text missing values are ``""``,
numeric ones NaN, dates ``NaT``; dates are ``datetime64[s]`` at midnight.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import ITEM_DOMAIN, Study

TOF, PBO = "Tofersen 100 mg", "Placebo"

ITEMS = [
    ("ALSFRS01", "ALSFRS-R 1: Speech"),
    ("ALSFRS02", "ALSFRS-R 2: Salivation"),
    ("ALSFRS03", "ALSFRS-R 3: Swallowing"),
    ("ALSFRS04", "ALSFRS-R 4: Handwriting"),
    ("ALSFRS05", "ALSFRS-R 5: Cutting Food"),
    ("ALSFRS06", "ALSFRS-R 6: Dressing and Hygiene"),
    ("ALSFRS07", "ALSFRS-R 7: Turning in Bed"),
    ("ALSFRS08", "ALSFRS-R 8: Walking"),
    ("ALSFRS09", "ALSFRS-R 9: Climbing Stairs"),
    ("ALSFRS10", "ALSFRS-R 10: Dyspnea"),
    ("ALSFRS11", "ALSFRS-R 11: Orthopnea"),
    ("ALSFRS12", "ALSFRS-R 12: Respiratory Insufficiency"),
]
DOMAINS = [
    ("ALSFRSBU", "ALSFRS-R Bulbar Subscore (Items 1-3)"),
    ("ALSFRSFM", "ALSFRS-R Fine Motor Subscore (Items 4-6)"),
    ("ALSFRSGM", "ALSFRS-R Gross Motor Subscore (Items 7-9)"),
    ("ALSFRSRE", "ALSFRS-R Respiratory Subscore (Items 10-12)"),
]

# MedDRA-style preferred term and system organ class, keyed by the model's term
MEDDRA = {
    "PROCEDURAL PAIN": ("Procedural pain", "Injury, poisoning and procedural complications"),
    "HEADACHE": ("Headache", "Nervous system disorders"),
    "POST LUMBAR PUNCTURE SYNDROME": ("Post lumbar puncture syndrome", "Injury, poisoning and procedural complications"),
    "BACK PAIN": ("Back pain", "Musculoskeletal and connective tissue disorders"),
    "CSF WHITE BLOOD CELL COUNT INCREASED": ("CSF white blood cell count increased", "Investigations"),
    "CSF PROTEIN INCREASED": ("CSF protein increased", "Investigations"),
    "NAUSEA": ("Nausea", "Gastrointestinal disorders"),
    "PAIN IN EXTREMITY": ("Pain in extremity", "Musculoskeletal and connective tissue disorders"),
    "FALL": ("Fall", "Injury, poisoning and procedural complications"),
    "ARTHRALGIA": ("Arthralgia", "Musculoskeletal and connective tissue disorders"),
    "MUSCLE SPASMS": ("Muscle spasms", "Musculoskeletal and connective tissue disorders"),
    "FATIGUE": ("Fatigue", "General disorders and administration site conditions"),
    "CONSTIPATION": ("Constipation", "Gastrointestinal disorders"),
    "NASOPHARYNGITIS": ("Nasopharyngitis", "Infections and infestations"),
    "INSOMNIA": ("Insomnia", "Psychiatric disorders"),
    "CONTUSION": ("Contusion", "Injury, poisoning and procedural complications"),
    "RESPIRATORY FAILURE": ("Respiratory failure", "Respiratory, thoracic and mediastinal disorders"),
    "AMYOTROPHIC LATERAL SCLEROSIS": ("Amyotrophic lateral sclerosis", "Nervous system disorders"),
    "PNEUMONIA ASPIRATION": ("Pneumonia aspiration", "Respiratory, thoracic and mediastinal disorders"),
    "MYELITIS": ("Myelitis", "Nervous system disorders"),
    "RADICULITIS": ("Radiculitis", "Nervous system disorders"),
    "MENINGITIS ASEPTIC": ("Meningitis aseptic", "Nervous system disorders"),
    "MENINGITIS CHEMICAL": ("Meningitis chemical", "Nervous system disorders"),
    "PAPILLOEDEMA": ("Papilloedema", "Eye disorders"),
    "PNEUMONIA": ("Pneumonia", "Infections and infestations"),
    "DYSPHAGIA": ("Dysphagia", "Gastrointestinal disorders"),
    "FEMUR FRACTURE": ("Femur fracture", "Injury, poisoning and procedural complications"),
    "PULMONARY EMBOLISM": ("Pulmonary embolism", "Respiratory, thoracic and mediastinal disorders"),
    "DEHYDRATION": ("Dehydration", "Metabolism and nutrition disorders"),
    "DEEP VEIN THROMBOSIS": ("Deep vein thrombosis", "Vascular disorders"),
    "MUSCULAR WEAKNESS": ("Muscular weakness", "Musculoskeletal and connective tissue disorders"),
    "DYSPNOEA": ("Dyspnoea", "Respiratory, thoracic and mediastinal disorders"),
}
SEVERITY = np.array(["MILD", "MODERATE", "SEVERE"], dtype=object)

# variable -> (label, type); type is text | integer | float | date
VARS: dict[str, tuple[str, str]] = {
    "STUDYID": ("Study Identifier", "text"),
    "USUBJID": ("Unique Subject Identifier", "text"),
    "SUBJID": ("Subject Identifier for the Study", "text"),
    "SITEID": ("Study Site Identifier", "text"),
    "COUNTRY": ("Country", "text"),
    "REGION": ("Geographic Region", "text"),
    "TRT01P": ("Planned Treatment for Period 01", "text"),
    "TRT01PN": ("Planned Treatment for Period 01 (N)", "integer"),
    "TRT01A": ("Actual Treatment for Period 01", "text"),
    "TRT01AN": ("Actual Treatment for Period 01 (N)", "integer"),
    "TRT02P": ("Planned Treatment for Period 02", "text"),
    "TRT02A": ("Actual Treatment for Period 02", "text"),
    "RANDDT": ("Date of Randomization", "date"),
    "TRTSDT": ("Date of First Exposure to Treatment", "date"),
    "TRTEDT": ("Date of Last Exposure to Treatment", "date"),
    "TR01SDT": ("Date of First Exposure in Period 01", "date"),
    "TR01EDT": ("Date of Last Exposure in Period 01", "date"),
    "TR02SDT": ("Date of First Exposure in Period 02", "date"),
    "TR02EDT": ("Date of Last Exposure in Period 02", "date"),
    "TOFSDT": ("Date of First Dose of Tofersen", "date"),
    "STARTGR": ("Start Group (Early/Delayed Start)", "text"),
    "STARTGRN": ("Start Group (N)", "integer"),
    "PROGGR1": ("Progression Subgroup", "text"),
    "PROGGR1N": ("Progression Subgroup (N)", "integer"),
    "SOD1VAR": ("SOD1 Variant (Protein Change)", "text"),
    "A5VFL": ("SOD1 p.Ala5Val (A5V) Carrier Flag", "text"),
    "AGE": ("Age", "integer"),
    "AGEU": ("Age Units", "text"),
    "AGEGR1": ("Pooled Age Group 1", "text"),
    "AGEGR1N": ("Pooled Age Group 1 (N)", "integer"),
    "SEX": ("Sex", "text"),
    "RACE": ("Race", "text"),
    "ETHNIC": ("Ethnicity", "text"),
    "ONSETDT": ("Date of ALS Symptom Onset", "date"),
    "ONSETMO": ("Time Since Symptom Onset (months)", "float"),
    "BLALSFRS": ("Baseline ALSFRS-R Total Score", "integer"),
    "BLSVC": ("Baseline SVC (% predicted)", "float"),
    "BLHHD": ("Baseline HHD Megascore", "float"),
    "BLALSAQ": ("Baseline ALSAQ-40 Total Score", "float"),
    "NFLBL": ("Baseline Plasma NfL (pg/mL)", "float"),
    "BLSOD1": ("Baseline CSF Total SOD1 (ng/mL)", "float"),
    "RILUFL": ("Riluzole Use at Baseline Flag", "text"),
    "EDARAFL": ("Edaravone Use at Baseline Flag", "text"),
    "ITTFL": ("Intent-To-Treat Population Flag", "text"),
    "SAFFL": ("Safety Population Flag", "text"),
    "FASFL": ("Faster Progression Population Flag", "text"),
    "TOFFL": ("Tofersen-Treated Population Flag", "text"),
    "VALCMPFL": ("Completed VALOR (Week 28) Flag", "text"),
    "OLEFL": ("Entered Open-Label Extension Flag", "text"),
    "OLECMPFL": ("Completed Open-Label Extension Flag", "text"),
    "EOSSTT": ("End of Study Status", "text"),
    "EOSDT": ("End of Study Date", "date"),
    "DCSREAS": ("Reason for Discontinuation from Study", "text"),
    "DCSPER": ("Period of Discontinuation", "text"),
    "DTHFL": ("Subject Death Flag", "text"),
    "DTHDT": ("Date of Death", "date"),
    "PVENTFL": ("Permanent Ventilation Flag", "text"),
    "PVENTDT": ("Date of Permanent Ventilation", "date"),
    "LSTALVDT": ("Date Last Known Alive", "date"),
    # BDS
    "PARCAT1": ("Parameter Category 1", "text"),
    "PARAMCD": ("Parameter Code", "text"),
    "PARAM": ("Parameter", "text"),
    "PARAMN": ("Parameter (N)", "integer"),
    "AVAL": ("Analysis Value", "float"),
    "AVALL": ("Natural Log of Analysis Value", "float"),
    "BASE": ("Baseline Value", "float"),
    "BASEL": ("Natural Log of Baseline Value", "float"),
    "CHG": ("Change from Baseline", "float"),
    "CHGL": ("Change from Baseline in Log Value", "float"),
    "R2BASE": ("Ratio to Baseline", "float"),
    "ABLFL": ("Baseline Record Flag", "text"),
    "ANL01FL": ("Analysis Flag 01", "text"),
    "AVISIT": ("Analysis Visit", "text"),
    "AVISITN": ("Analysis Visit (N)", "integer"),
    "ADT": ("Analysis Date", "date"),
    "ADY": ("Analysis Relative Day", "integer"),
    "APERIOD": ("Period", "integer"),
    "APERIODC": ("Period (C)", "text"),
    "TRTP": ("Planned Treatment", "text"),
    "TRTPN": ("Planned Treatment (N)", "integer"),
    "TRTA": ("Actual Treatment", "text"),
    "TRTAN": ("Actual Treatment (N)", "integer"),
    # TTE
    "STARTDT": ("Time-to-Event Origin Date for Subject", "date"),
    "CNSR": ("Censor", "integer"),
    "EVNTDESC": ("Event or Censoring Description", "text"),
    "CNSDTDSC": ("Censor Date Description", "text"),
    # AE
    "AESEQ": ("Sequence Number", "integer"),
    "AETERM": ("Reported Term for the Adverse Event", "text"),
    "AEDECOD": ("Dictionary-Derived Term", "text"),
    "AEBODSYS": ("Body System or Organ Class", "text"),
    "ASTDT": ("Analysis Start Date", "date"),
    "ASTDY": ("Analysis Start Relative Day", "integer"),
    "AENDT": ("Analysis End Date", "date"),
    "AENDY": ("Analysis End Relative Day", "float"),
    "AESER": ("Serious Event", "text"),
    "AESEV": ("Severity/Intensity", "text"),
    "AEREL": ("Causality", "text"),
    "AEACN": ("Action Taken with Study Treatment", "text"),
    "AEOUT": ("Outcome of Adverse Event", "text"),
    "AESDTH": ("Results in Death", "text"),
    "TRTEMFL": ("Treatment Emergent Analysis Flag", "text"),
    "CQ01NAM": ("Customized Query 01 Name", "text"),
    # EX
    "EXTRT": ("Name of Treatment", "text"),
    "EXROUTE": ("Route of Administration", "text"),
    "EXCAT": ("Category of Treatment (Dosing Phase)", "text"),
    "ASEQ": ("Analysis Sequence Number", "integer"),
}

_SUBJ_KEYS = ["STUDYID", "USUBJID", "SITEID", "TRT01P", "TRT01PN", "STARTGR", "PROGGR1", "ITTFL", "FASFL"]
_BDS_COLS = _SUBJ_KEYS + ["PARCAT1", "PARAMCD", "PARAM", "PARAMN", "AVISIT", "AVISITN", "ADT", "ADY",
                          "APERIOD", "APERIODC", "TRTP", "TRTPN", "TRTA", "TRTAN", "AVAL", "BASE", "CHG",
                          "ABLFL", "ANL01FL"]
COLUMNS = {
    "ADSL": ["STUDYID", "USUBJID", "SUBJID", "SITEID", "COUNTRY", "REGION", "TRT01P", "TRT01PN", "TRT01A",
             "TRT01AN", "TRT02P", "TRT02A", "RANDDT", "TRTSDT", "TRTEDT", "TR01SDT", "TR01EDT", "TR02SDT",
             "TR02EDT", "TOFSDT", "STARTGR", "STARTGRN", "PROGGR1", "PROGGR1N", "SOD1VAR", "A5VFL", "AGE",
             "AGEU", "AGEGR1", "AGEGR1N", "SEX", "RACE", "ETHNIC", "ONSETDT", "ONSETMO", "BLALSFRS", "BLSVC",
             "BLHHD", "BLALSAQ", "NFLBL", "BLSOD1", "RILUFL", "EDARAFL", "ITTFL", "SAFFL", "FASFL", "TOFFL",
             "VALCMPFL", "OLEFL", "OLECMPFL", "EOSSTT", "EOSDT", "DCSREAS", "DCSPER", "DTHFL", "DTHDT",
             "PVENTFL", "PVENTDT", "LSTALVDT"],
    "ADQS": _BDS_COLS,
    "ADEFF": _BDS_COLS,
    "ADLB": _BDS_COLS[:-4] + ["BASE", "CHG", "R2BASE", "AVALL", "BASEL", "CHGL", "ABLFL", "ANL01FL"],
    "ADTTE": _SUBJ_KEYS + ["PARAMCD", "PARAM", "PARAMN", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC",
                           "CNSDTDSC"],
    "ADAE": _SUBJ_KEYS + ["SAFFL", "TOFFL", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "ASTDT", "ASTDY",
                          "AENDT", "AENDY", "AESER", "AESEV", "AEREL", "AEACN", "AEOUT", "AESDTH", "TRTEMFL",
                          "CQ01NAM", "APERIOD", "APERIODC", "TRTA", "TRTAN"],
    "ADEX": _SUBJ_KEYS + ["SAFFL", "ASEQ", "PARAMCD", "PARAM", "AVAL", "EXTRT", "EXROUTE", "EXCAT", "ASTDT",
                          "ASTDY", "APERIOD", "APERIODC", "TRTA", "TRTAN"],
}
LABELS = {
    "ADSL": "Subject-Level Analysis Dataset",
    "ADQS": "Questionnaire Analysis (ALSFRS-R, ALSAQ-40)",
    "ADEFF": "Efficacy Analysis (SVC, HHD Megascore)",
    "ADLB": "Biomarker Analysis (Plasma NfL, CSF SOD1)",
    "ADTTE": "Time-to-Event Analysis Dataset",
    "ADAE": "Adverse Events Analysis Dataset",
    "ADEX": "Exposure Analysis Dataset",
}
STRUCTURE = {
    "ADSL": "One record per subject",
    "ADQS": "One record per subject per parameter per analysis visit",
    "ADEFF": "One record per subject per parameter per analysis visit",
    "ADLB": "One record per subject per parameter per analysis visit",
    "ADTTE": "One record per subject per parameter",
    "ADAE": "One record per subject per adverse event",
    "ADEX": "One record per subject per dose administered",
}
KEYS = {
    "ADSL": ["USUBJID"], "ADQS": ["USUBJID", "PARAMN", "AVISITN"], "ADEFF": ["USUBJID", "PARAMN", "AVISITN"],
    "ADLB": ["USUBJID", "PARAMN", "AVISITN"], "ADTTE": ["USUBJID", "PARAMN"], "ADAE": ["USUBJID", "AESEQ"],
    "ADEX": ["USUBJID", "ASEQ"],
}


def _yn(x: np.ndarray) -> np.ndarray:
    return np.where(x, "Y", "N").astype(object)


def _dates(base: np.datetime64, rand_off: np.ndarray, off: np.ndarray, valid=None) -> np.ndarray:
    d = base + (rand_off + off).astype("timedelta64[D]")
    d = d.astype("datetime64[s]")
    if valid is not None:
        d = np.where(valid, d, np.datetime64("NaT", "s"))
    return d


def _frame(name: str, cols: dict) -> pd.DataFrame:
    order = COLUMNS[name]
    missing = [c for c in order if c not in cols]
    if missing:
        raise KeyError(f"{name}: columns not built: {missing}")
    data = {}
    for c in order:
        kind = VARS[c][1]
        val = np.asarray(cols[c])
        if kind == "text":
            data[c] = pd.Series(val.astype(object), dtype=object)
        elif kind == "integer":
            data[c] = pd.Series(val.astype(np.int64))
        elif kind == "float":
            data[c] = pd.Series(val.astype(np.float64))
        else:
            data[c] = pd.Series(val.astype("datetime64[s]"))
    df = pd.DataFrame(data)
    df.attrs["label"] = LABELS[name]
    df.attrs["labels"] = {c: VARS[c][0] for c in order}
    return df


def build_adam(st: Study) -> dict[str, pd.DataFrame]:
    """All ADaM datasets of a simulated study, keyed by dataset name (ADSL first)."""
    sim, p, v = st.sim, st.p, st.v
    n = p["arm"].size
    base = np.datetime64(sim["calendar"]["first_randomization"], "D")
    ro = p["rand_off"]
    studyid = sim["studyid"]
    countries = sim["sites"]["countries"]
    site_num = np.arange(sum(c["sites"] for c in countries))
    siteid = np.array([f"{101 + s}" for s in site_num], dtype=object)[p["site"]]
    # subject numbers within site in randomisation order
    subj_no = np.zeros(n, np.int64)
    order = np.lexsort((np.arange(n), p["site"]))
    first_of_site = np.r_[True, p["site"][order][1:] != p["site"][order][:-1]]
    grp_start = np.maximum.accumulate(np.where(first_of_site, np.arange(n), 0))
    subj_no[order] = np.arange(n) - grp_start + 1
    subjid = np.array([f"{s}-{k:03d}" for s, k in zip(siteid, subj_no)], dtype=object)
    usubjid = np.array([f"{studyid}-{s}" for s in subjid], dtype=object)
    arms, subs, sg = sim["arms"], sim["subgroups"], sim["start_groups"]
    is_tof = p["arm"] == 1
    trt01p = np.where(is_tof, arms["tofersen"]["label"], arms["placebo"]["label"]).astype(object)
    trt01pn = np.where(is_tof, arms["tofersen"]["code"], arms["placebo"]["code"])
    tof_label, tof_code = arms["tofersen"]["label"], arms["tofersen"]["code"]
    startgr = np.where(is_tof, sg["early"], sg["delayed"]).astype(object)
    proggr = np.where(p["sub"] == 0, subs["faster"]["label"], subs["slower"]["label"]).astype(object)
    proggrn = np.where(p["sub"] == 0, subs["faster"]["code"], subs["slower"]["code"])
    ittfl = np.full(n, "Y", dtype=object)
    fasfl = _yn(p["sub"] == 0)
    subj = dict(STUDYID=np.full(n, studyid, dtype=object), USUBJID=usubjid, SITEID=siteid, TRT01P=trt01p,
                TRT01PN=trt01pn, STARTGR=startgr, PROGGR1=proggr, ITTFL=ittfl, FASFL=fasfl)

    randdt = _dates(base, ro, np.zeros(n, np.int64))
    dz = st.doses
    last_p1 = np.full(n, -1, np.int64)
    np.maximum.at(last_p1, dz["subj"][dz["period"] == 1], dz["off"][dz["period"] == 1])
    last_p2 = np.full(n, -1, np.int64)
    np.maximum.at(last_p2, dz["subj"][dz["period"] == 2], dz["off"][dz["period"] == 2])
    entrant = p["entrant"]
    tofsdt = _dates(base, ro, p["first_tof_off"], p["first_tof_off"] >= 0)
    kept = v["kept"]
    tot0 = v["total"][:, 0]
    # disposition
    eosstt = np.where(p["completer"], "COMPLETED", "DISCONTINUED").astype(object)
    dcsreas = np.full(n, "", dtype=object)
    dcsreas[p["withdrew"]] = "WITHDRAWAL BY SUBJECT"
    dcsreas[p["ae_disc"]] = "ADVERSE EVENT"
    dcsreas[p["completed_valor"] & ~entrant] = "DID NOT ENTER OLE"
    dcsreas[p["died"]] = "DEATH"
    dcsper = np.where(p["completer"], "", np.where(entrant & (p["end_off"] > p["ole_start_off"]), "OLE", "VALOR"))
    dcsper = np.where(p["completed_valor"] & ~entrant, "VALOR", dcsper).astype(object)
    last_visit = np.where(kept, v["off"], -1).max(axis=1)
    lstalv = np.where(p["died"], p["died_off"], np.maximum(p["end_off"], last_visit))
    onset_off = -np.rint(p["onset_months"] * 30.4375).astype(np.int64)
    var_names = np.array([sim["variants"]["a5v_name"]] + list(sim["variants"]["others"]), dtype=object)
    races = np.array(list(sim["baseline"]["race"]), dtype=object)
    cut = sim["baseline"]["age"]["group_cut"]
    cols = dict(subj)
    cols.update(
        SUBJID=subjid,
        COUNTRY=np.array([c["country"] for c in countries], dtype=object)[p["country"]],
        REGION=np.array([c["region"] for c in countries], dtype=object)[p["country"]],
        TRT01A=trt01p, TRT01AN=trt01pn,
        TRT02P=np.where(entrant, tof_label, "").astype(object),
        TRT02A=np.where(entrant & (last_p2 >= 0), tof_label, "").astype(object),
        RANDDT=randdt, TRTSDT=randdt,
        TRTEDT=_dates(base, ro, p["last_dose_off"]),
        TR01SDT=randdt, TR01EDT=_dates(base, ro, last_p1),
        TR02SDT=_dates(base, ro, p["ole_start_off"], entrant & (last_p2 >= 0)),
        TR02EDT=_dates(base, ro, last_p2, last_p2 >= 0),
        TOFSDT=tofsdt,
        STARTGRN=np.where(is_tof, 1, 2),
        PROGGR1N=proggrn,
        SOD1VAR=var_names[p["variant"]], A5VFL=_yn(p["variant"] == 0),
        AGE=p["age"], AGEU=np.full(n, "YEARS", dtype=object),
        AGEGR1=np.where(p["age"] < cut, f"<{cut}", f">={cut}").astype(object),
        AGEGR1N=np.where(p["age"] < cut, 1, 2),
        SEX=np.where(p["male"], "M", "F").astype(object),
        RACE=races[p["race"]],
        ETHNIC=np.where(p["hispanic"], "HISPANIC OR LATINO", "NOT HISPANIC OR LATINO").astype(object),
        ONSETDT=_dates(base, ro, onset_off), ONSETMO=p["onset_months"],
        BLALSFRS=tot0, BLSVC=np.round(v["svc"][:, 0], 1), BLHHD=np.round(v["hhd"][:, 0], 3),
        BLALSAQ=np.round(v["alsaq"][:, 0], 1), NFLBL=np.round(v["nfl"][:, 0], 1),
        BLSOD1=np.round(v["sod1"][:, 0], 1),
        RILUFL=_yn(p["riluzole"]), EDARAFL=_yn(p["edaravone"]),
        SAFFL=np.full(n, "Y", dtype=object),
        TOFFL=_yn(p["first_tof_off"] >= 0),
        VALCMPFL=_yn(p["completed_valor"]), OLEFL=_yn(entrant), OLECMPFL=_yn(p["completer"]),
        EOSSTT=eosstt, EOSDT=_dates(base, ro, p["end_off"]), DCSREAS=dcsreas, DCSPER=dcsper,
        DTHFL=_yn(p["died"]), DTHDT=_dates(base, ro, p["died_off"], p["died"]),
        PVENTFL=_yn(p["pv"]), PVENTDT=_dates(base, ro, p["pv_off"], p["pv"]),
        LSTALVDT=_dates(base, ro, lstalv),
    )
    adsl = _frame("ADSL", cols)

    # ---------------------------------------------------------------- BDS datasets
    kv = st.n_valor_visits
    K = v["off"].shape[1]
    avisitn = st.visit_weeks
    avisit = np.array(["Baseline"] + [f"Week {w}" for w in avisitn[1:]], dtype=object)
    period = np.where(np.arange(K) < kv, 1, 2)

    def bds(name, params, extra_log=False):
        """params: list of (parcat, paramcd, param, values (N, K), available mask (N, K))."""
        blocks = []
        for pn, (parcat, cd, label, vals, avail) in enumerate(params, start=1):
            m = kept & avail
            ii, kk = np.nonzero(m)
            aval = vals[ii, kk].astype(float)
            basev = vals[:, 0].astype(float)[ii]
            blocks.append(dict(ii=ii, kk=kk, pn=np.full(ii.size, pn), cd=np.full(ii.size, cd, dtype=object),
                               lab=np.full(ii.size, label, dtype=object), cat=np.full(ii.size, parcat, dtype=object),
                               aval=aval, base=basev))
        b = {k: np.concatenate([blk[k] for blk in blocks]) for k in blocks[0]}
        order = np.lexsort((b["kk"], b["pn"], b["ii"]))
        b = {k: x[order] for k, x in b.items()}
        ii, kk = b["ii"], b["kk"]
        per = period[kk]
        trtp = np.where(per == 1, trt01p[ii], tof_label).astype(object)
        trtpn = np.where(per == 1, trt01pn[ii], tof_code)
        off = v["off"][ii, kk]
        out = {c: subj[c][ii] for c in _SUBJ_KEYS}
        out.update(PARCAT1=b["cat"], PARAMCD=b["cd"], PARAM=b["lab"], PARAMN=b["pn"],
                   AVISIT=avisit[kk], AVISITN=avisitn[kk], ADT=_dates(base, ro[ii], off), ADY=off + 1,
                   APERIOD=per, APERIODC=np.where(per == 1, "VALOR", "OLE").astype(object),
                   TRTP=trtp, TRTPN=trtpn, TRTA=trtp, TRTAN=trtpn,
                   AVAL=b["aval"], BASE=b["base"], CHG=b["aval"] - b["base"],
                   ABLFL=np.where(kk == 0, "Y", "").astype(object), ANL01FL=np.full(ii.size, "Y", dtype=object))
        if extra_log:
            out["AVALL"] = np.log(b["aval"])
            out["BASEL"] = np.log(b["base"])
            out["CHGL"] = out["AVALL"] - out["BASEL"]
            out["R2BASE"] = b["aval"] / b["base"]
        return _frame(name, out)

    all_vis = np.ones_like(kept)
    alsaq_days = np.array(sim["visits"]["alsaq_valor_days"])
    alsaq_avail = np.broadcast_to(np.isin(st.visit_days, alsaq_days) | (np.arange(K) >= kv), kept.shape)
    items = v["items"]
    qs_params = [("ALSFRS-R", "ALSFRST", "ALSFRS-R Total Score", v["total"], all_vis)]
    qs_params += [("ALSFRS-R", cd, lab, items[:, :, j], all_vis) for j, (cd, lab) in enumerate(ITEMS)]
    qs_params += [("ALSFRS-R", cd, lab, items[:, :, ITEM_DOMAIN == d].sum(axis=2), all_vis)
                  for d, (cd, lab) in enumerate(DOMAINS)]
    qs_params += [("ALSAQ-40", "ALSAQ40", "ALSAQ-40 Total Score (0-100)", np.round(v["alsaq"], 1), alsaq_avail)]
    adqs = bds("ADQS", qs_params)
    adeff = bds("ADEFF", [
        ("PULMONARY FUNCTION", "SVCPP", "Slow Vital Capacity (% predicted)", np.round(v["svc"], 1), all_vis),
        ("MUSCLE STRENGTH", "HHDMS", "Handheld Dynamometry Megascore", np.round(v["hhd"], 3), all_vis),
    ])
    csf_days = np.array(sim["visits"]["csf_valor_days"])
    ole_idx = np.arange(K) - kv
    csf_avail = np.broadcast_to(np.isin(st.visit_days, csf_days)
                                | ((ole_idx >= 0) & (ole_idx % sim["visits"]["csf_ole_every"]
                                                     == sim["visits"]["csf_ole_every"] - 1)), kept.shape)
    adlb = bds("ADLB", [
        ("PLASMA", "NFL", "Plasma Neurofilament Light Chain (pg/mL)", np.round(v["nfl"], 2), all_vis),
        ("CSF", "SOD1", "CSF Total SOD1 Protein (ng/mL)", np.round(v["sod1"], 2), csf_avail),
    ], extra_log=True)

    # ---------------------------------------------------------------- ADTTE (from randomisation)
    tte = []
    end_contact = lstalv
    for pn, (cd, lab) in enumerate((("DTHPV", "Time to Death or Permanent Ventilation (days)"),
                                    ("DTH", "Time to Death (days)")), start=1):
        if cd == "DTHPV":
            ev_off = np.where(p["pv"], p["pv_off"], np.where(p["died"], p["died_off"], -1))
            ev_off = np.where(p["pv"] & p["died"], np.minimum(p["pv_off"], p["died_off"]), ev_off)
            event = p["pv"] | p["died"]
            desc = np.where(p["pv"] & ((~p["died"]) | (p["pv_off"] <= p["died_off"])), "PERMANENT VENTILATION", "DEATH")
        else:
            ev_off = p["died_off"]
            event = p["died"]
            desc = np.full(n, "DEATH")
        adt_off = np.where(event, ev_off, end_contact)
        out = dict(subj)
        out.update(PARAMCD=np.full(n, cd, dtype=object), PARAM=np.full(n, lab, dtype=object),
                   PARAMN=np.full(n, pn), STARTDT=randdt, ADT=_dates(base, ro, adt_off),
                   AVAL=(adt_off + 1).astype(float), CNSR=np.where(event, 0, 1),
                   EVNTDESC=np.where(event, desc, "").astype(object),
                   CNSDTDSC=np.where(event, "", "DATE LAST KNOWN ALIVE").astype(object))
        tte.append(out)
    tte_cols = {k: np.concatenate([t[k] for t in tte]) for k in tte[0]}
    o = np.lexsort((tte_cols["PARAMN"], np.concatenate([np.arange(n)] * 2)))
    adtte = _frame("ADTTE", {k: x[o] for k, x in tte_cols.items()})

    # ---------------------------------------------------------------- ADAE
    a = st.aes
    ii = a["subj"]
    m = ii.size
    pt = np.array([MEDDRA[t][0] for t in a["term"]], dtype=object)
    soc = np.array([MEDDRA[t][1] for t in a["term"]], dtype=object)
    ole_start = p["ole_start_off"]
    per = np.where(entrant[ii] & (a["off"] >= ole_start[ii]), 2, 1)
    on_tof = (per == 2) | is_tof[ii]
    related = a["related"]
    end_off = a["off"] + a["dur"]
    ongoing = a["fatal"] | (end_off > p["end_off"][ii])
    aendt = _dates(base, ro[ii], end_off, ~ongoing | a["fatal"])
    aendt = np.where(a["fatal"], _dates(base, ro[ii], a["off"]), aendt)
    trta = np.where(on_tof, tof_label, trt01p[ii]).astype(object)
    trtan = np.where(on_tof, tof_code, trt01pn[ii])
    sev = SEVERITY[a["sev"]]
    out = {c: subj[c][ii] for c in _SUBJ_KEYS}
    aeseq = np.zeros(m, np.int64)
    first = np.r_[True, ii[1:] != ii[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    aeseq[:] = np.arange(m) - start + 1
    out.update(SAFFL=np.full(m, "Y", dtype=object), TOFFL=_yn(p["first_tof_off"] >= 0)[ii], AESEQ=aeseq,
               AETERM=np.char.lower(a["term"].astype(str)).astype(object), AEDECOD=pt, AEBODSYS=soc,
               ASTDT=_dates(base, ro[ii], a["off"]), ASTDY=a["off"] + 1,
               AENDT=aendt, AENDY=np.where(ongoing & ~a["fatal"], np.nan, np.where(a["fatal"], a["off"], end_off) + 1.0),
               AESER=_yn(a["serious"]), AESEV=sev, AEREL=np.where(related, "RELATED", "NOT RELATED").astype(object),
               AEACN=np.where(a["drug_withdrawn"], "DRUG WITHDRAWN",
                              np.where(a["fatal"], "NOT APPLICABLE", "DOSE NOT CHANGED")).astype(object),
               AEOUT=np.where(a["fatal"], "FATAL", np.where(ongoing, "NOT RECOVERED/NOT RESOLVED",
                                                             "RECOVERED/RESOLVED")).astype(object),
               AESDTH=_yn(a["fatal"]), TRTEMFL=np.full(m, "Y", dtype=object),
               CQ01NAM=np.where(a["neuro"], "SERIOUS NEUROLOGICAL EVENTS", "").astype(object),
               APERIOD=per, APERIODC=np.where(per == 1, "VALOR", "OLE").astype(object), TRTA=trta, TRTAN=trtan)
    adae = _frame("ADAE", out)

    # ---------------------------------------------------------------- ADEX
    ii = dz["subj"]
    m = ii.size
    first = np.r_[True, ii[1:] != ii[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    dose = sim["dosing"]["dose_mg"]
    trta = np.where(dz["tofersen"], tof_label, trt01p[ii]).astype(object)
    out = {c: subj[c][ii] for c in _SUBJ_KEYS}
    out.update(SAFFL=np.full(m, "Y", dtype=object), ASEQ=np.arange(m) - start + 1,
               PARAMCD=np.full(m, "DOSE", dtype=object), PARAM=np.full(m, "Dose Administered (mg)", dtype=object),
               AVAL=np.where(dz["tofersen"], dose, 0.0),
               EXTRT=np.where(dz["tofersen"], "TOFERSEN", "PLACEBO").astype(object),
               EXROUTE=np.full(m, "INTRATHECAL", dtype=object),
               EXCAT=np.where(dz["loading"], "LOADING", "MAINTENANCE").astype(object),
               ASTDT=_dates(base, ro[ii], dz["off"]), ASTDY=dz["off"] + 1, APERIOD=dz["period"],
               APERIODC=np.where(dz["period"] == 1, "VALOR", "OLE").astype(object),
               TRTA=trta, TRTAN=np.where(dz["tofersen"], tof_code, trt01pn[ii]))
    adex = _frame("ADEX", out)
    return {"ADSL": adsl, "ADQS": adqs, "ADEFF": adeff, "ADLB": adlb, "ADTTE": adtte, "ADAE": adae, "ADEX": adex}
