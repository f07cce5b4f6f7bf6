"""From a wheel, outside the repository: build the wheel, install it into a fresh virtual
environment, then `trialsupp new` + `trialsupp render` + `audit` + `verify` in a temporary folder.

The venv sees the machine's site-packages (numpy, pandas, Quarto's Python deps ...; no network
is needed) but not this checkout: PYTHONPATH is cleared, and the wheel in the venv's own
site-packages comes before the machine's editable ``.pth`` entry. The test proves it: the CLI
process, and a Jupyter kernel started as the renderer starts it, import trialsupp from the venv,
and the project's ``_extensions/trialsupp`` is the wheel's template.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _run(cmd, env, cwd, timeout=1800):
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))}\nstdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src-copy"                    # build from a copy: no build/ or egg-info in the checkout
    shutil.copytree(ROOT / "src" / "trialsupp", src / "src" / "trialsupp",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for f in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / f, src / f)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TRIALSUPP_PROJECT")}
    t0 = time.monotonic()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(base / "dist"),
          str(src)], env, base)
    wheel = next((base / "dist").glob("trialsupp-*.whl"))
    vdir = base / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(vdir)], env, base)
    py = vdir / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], env, base)
    env["PATH"] = f"{vdir / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(vdir)
    return {"py": py, "bin": vdir / "bin", "env": env, "site": vdir / "lib", "base": base,
            "install_s": time.monotonic() - t0, "wheel": wheel}


def test_wheel_holds_no_study_code_and_ships_the_templates(venv):
    import zipfile
    names = zipfile.ZipFile(venv["wheel"]).namelist()
    assert any(n.startswith("trialsupp/templates/_extensions/trialsupp/") for n in names)
    assert any(n == "trialsupp/templates/_quarto.yml" for n in names)
    assert not [n for n in names if n.startswith(("studies/", "trialsupp/analyses/", "trialsupp/simulate/"))]


def test_trialsupp_and_kernels_import_the_wheel(venv):
    code = "import trialsupp, trialsupp.project as p; print(trialsupp.__file__); print(p.TEMPLATES)"
    out = _run([str(venv["py"]), "-c", code], venv["env"], venv["base"]).split()
    assert all(o.startswith(str(venv["site"])) for o in out), out
    kernel = ("from jupyter_client.manager import start_new_kernel\n"
              "km, kc = start_new_kernel(kernel_name='python3')\n"
              "msgs = []\n"
              "kc.execute_interactive('import trialsupp; print(trialsupp.__file__)', output_hook=msgs.append, timeout=120)\n"
              "print([m['content'].get('text', '') for m in msgs if m['msg_type'] == 'stream'][0].strip())\n"
              "kc.stop_channels(); km.shutdown_kernel(now=True)\n")
    where = _run([str(venv["py"]), "-c", kernel], venv["env"], venv["base"]).strip().splitlines()[-1]
    assert where.startswith(str(venv["site"])), where


def test_new_render_audit_verify_outside_the_repository(venv, tmp_path):
    env, tsp = venv["env"], str(venv["bin"] / "trialsupp")
    adam = tmp_path / "delivery"                # a user's ADaM delivery, outside any project
    shutil.copytree(ROOT / "data" / "cdiscpilot01", adam, ignore=shutil.ignore_patterns("SOURCE.md", "*.parquet"))
    proj = tmp_path / "mytrial"
    t0 = time.monotonic()
    out = _run([tsp, "new", str(proj), "--adam", str(adam), "--layout", "csr"], env, tmp_path)
    assert "not made" not in out or "disposition" not in out
    pkg_ext = Path(_run([str(venv["py"]), "-c", "import trialsupp.project as p; print(p.TEMPLATES)"],
                        env, tmp_path).strip()) / "_extensions" / "trialsupp"
    for f in pkg_ext.iterdir():
        if f.is_file():
            assert (proj / "_extensions" / "trialsupp" / f.name).read_bytes() == f.read_bytes(), f.name
    _run([tsp, "render", "--engine", "builtin", "--quiet"], env, proj, timeout=3600)
    minutes = (time.monotonic() - t0 + venv["install_s"]) / 60
    outdir = proj / "_output" / "cdiscpilot01"
    for f in ("supplement.html", "supplement.pdf"):
        assert (outdir / f).stat().st_size > 10_000, f
    assert len(list((outdir / "rtf").glob("*.rtf"))) >= 5
    html = (outdir / "supplement.html").read_text(encoding="utf-8")
    # CSR numbering (appendix 14): demographics, AE overview, AEs by SOC/PT, ADLBC by visit, KM figure
    for number in ("table-14-2.01", "table-14-5.01", "table-14-5.02", "table-14-6.01", "figure-14-3.01"):
        assert f'id="{number}-' in html, number
    _run([tsp, "audit"], env, proj)
    _run([tsp, "verify"], env, proj, timeout=3600)
    (tmp_path / "minutes.json").write_text(json.dumps({"install_to_rendered_min": minutes}))
    print(f"install + new + render: {minutes:.1f} min")
