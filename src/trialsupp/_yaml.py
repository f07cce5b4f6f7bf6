"""``safe_load`` with libyaml's C parser when PyYAML has it: the same documents, parsed about
ten times faster (the report's cell options, configs). On an error the pure-Python parser
reads the text again, so that messages are the ones PyYAML always gave."""
from __future__ import annotations

from typing import Any

import yaml

_FAST = getattr(yaml, "CSafeLoader", None)


def safe_load(text: str) -> Any:
    if _FAST is not None:
        try:
            return yaml.load(text, Loader=_FAST)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)
