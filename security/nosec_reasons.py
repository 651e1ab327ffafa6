"""Every `# nosec` in our code names the bandit test it silences and gives a reason (make security).

The accepted form is `# nosec B123 # why` (or `# nosec B123, B456 # why`); a bare `# nosec`, or one
without a reason after the second `#`, fails.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from pathlib import Path

NOSEC = re.compile(r"#\s*nosec\b(?P<rest>.*)$")
JUSTIFIED = re.compile(r"^:?\s*B\d{3}(\s*,\s*B\d{3})*\s*#\s*\S.{2,}$")


def main(paths: list[str]) -> int:
    bad = []
    for root in paths:
        for path in sorted(Path(root).rglob("*.py")) if Path(root).is_dir() else [Path(root)]:
            if "migrations" in path.parts:
                continue
            source = io.StringIO(path.read_text(encoding="utf-8"))
            for token in tokenize.generate_tokens(source.readline):
                if token.type != tokenize.COMMENT:
                    continue
                match = NOSEC.search(token.string)
                if match and not JUSTIFIED.match(match.group("rest").strip()):
                    bad.append(f"{path}:{token.start[0]}: {token.line.strip()}")
    if bad:
        print("nosec without a bandit test id and a reason (write `# nosec B123 # why`):")
        print("\n".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
