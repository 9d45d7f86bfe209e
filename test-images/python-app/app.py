"""A Python application with a third-party package (PyYAML, installed in the build stage)."""
import json
import sys

import yaml

config = yaml.safe_load("service: dit\nports: [80, 443]\nlimits: {cpu: 2, memory: 512Mi}\n")
print(json.dumps(config, sort_keys=True))
print(yaml.safe_dump({"python": sys.version_info[:2] >= (3, 11), "yaml": yaml.__version__.split(".")[0]}, sort_keys=True).strip())
if "--check" in sys.argv:
    print("check ok")
