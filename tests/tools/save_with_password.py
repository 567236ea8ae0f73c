"""Save a document as Word 97 (.doc) with an opening password, through LibreOffice's UNO API.

Run with Debian's python3 (python3-uno): `/usr/bin/python3 save_with_password.py IN OUT PASSWORD`.
`soffice --convert-to` cannot set a password, so the tests use this to make a real
password-protected .doc/.wps.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def main(source: str, target: str, password: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bulletin-uno-") as work:
        pipe = f"bulletin{Path(work).name}"
        office = subprocess.Popen(["soffice", f"-env:UserInstallation={Path(work, 'profile').as_uri()}", "--headless",
                                   "--norestore", "--nologo", "--nodefault", f"--accept=pipe,name={pipe};urp;"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            local = uno.getComponentContext()
            resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
            for _ in range(200):
                try:
                    context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
                    break
                except Exception:
                    time.sleep(0.1)
            else:
                raise SystemExit("LibreOffice did not start")
            desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
            document = desktop.loadComponentFromURL(Path(source).resolve().as_uri(), "_blank", 0, (prop("Hidden", True),))
            document.storeToURL(Path(target).resolve().as_uri(),
                                (prop("FilterName", "MS Word 97"), prop("Password", password)))
            document.close(True)
            try:
                desktop.terminate()
            except Exception:
                pass
        finally:
            try:
                office.wait(timeout=20)
            except subprocess.TimeoutExpired:
                office.kill()


if __name__ == "__main__":
    main(*sys.argv[1:4])
