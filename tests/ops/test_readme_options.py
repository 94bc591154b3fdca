"""The README's option tables name exactly the options the plugin parses.

The plugin's list is KnownOptionNames() in src/common/config.cc (read from
the source, and cross-checked against the names ApplyOption compares with);
the README's lists are the first column of the "Configuration reference"
table and of the "Options" table under "Enabling it on a broker". The
defaults written in the reference table must match conf/tkmprom.conf, and
every plugin_opt_ line anywhere in conf/ and the README names a known option.
"""

import os
import re
import unittest

SOURCE_ROOT = os.environ.get("TKMPROM_SOURCE_ROOT",
                             os.path.join(os.path.dirname(__file__), "..", ".."))


def read(*parts):
    with open(os.path.join(SOURCE_ROOT, *parts)) as f:
        return f.read()


def known_option_names(source):
    body = re.search(r"KnownOptionNames\(\)\s*\{(.*?)\};", source, re.S)
    if not body:
        raise AssertionError("KnownOptionNames() not found in src/common/config.cc")
    return re.findall(r'"([a-z_]+)"', body.group(1))


def applied_option_names(source):
    body = re.search(r"OptionResult ApplyOption\(.*?\n}\n", source, re.S)
    if not body:
        raise AssertionError("ApplyOption() not found in src/common/config.cc")
    return set(re.findall(r'name == "([a-z_]+)"', body.group(0)))


def section(markdown, heading):
    """Text from the heading line to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    m = re.search(r"(?m)^%s\s*$" % re.escape(heading), markdown)
    if not m:
        raise AssertionError("README has no %r section" % heading)
    rest = markdown[m.end():]
    end = re.search(r"(?m)^#{1,%d} " % level, rest)
    return rest[:end.start()] if end else rest


def table_rows(text):
    """Cells of the markdown table rows whose first cell holds `names`."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| `"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def names_in_first_column(text):
    names = []
    for row in table_rows(text):
        names += re.findall(r"`([a-z_]+)`", row[0])
    return names


class ReadmeOptionsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        source = read("src", "common", "config.cc")
        cls.known = known_option_names(source)
        cls.applied = applied_option_names(source)
        cls.readme = read("README.md")

    def test_known_names_are_the_ones_parsed(self):
        self.assertGreaterEqual(len(self.known), 10)
        self.assertEqual(len(self.known), len(set(self.known)))
        self.assertEqual(set(self.known), self.applied)

    def test_configuration_reference_lists_exactly_the_known_options(self):
        listed = names_in_first_column(section(self.readme, "## Configuration reference"))
        self.assertEqual(len(listed), len(set(listed)), "an option is listed twice")
        self.assertEqual(sorted(listed), sorted(self.known))

    def test_options_table_lists_exactly_the_known_options(self):
        listed = names_in_first_column(section(self.readme, "### Options (`plugin_opt_<name> <value>`)"))
        self.assertEqual(sorted(listed), sorted(self.known))

    def test_reference_defaults_match_the_shipped_snippet(self):
        defaults = {}
        for row in table_rows(section(self.readme, "## Configuration reference")):
            for name in re.findall(r"`([a-z_]+)`", row[0]):
                defaults[name] = row[1].strip("`")
        snippet = dict(re.findall(r"(?m)^#?plugin_opt_([a-z_]+) (\S+)\s*$",
                                  read("conf", "tkmprom.conf")))
        self.assertGreaterEqual(len(snippet), 10)
        for name, default in snippet.items():
            self.assertEqual(defaults.get(name), default, name)

    def test_every_plugin_opt_line_names_a_known_option(self):
        texts = [self.readme] + [read("conf", f) for f in sorted(os.listdir(
            os.path.join(SOURCE_ROOT, "conf"))) if f.endswith((".conf", ".conf.example", ".md", ".yml"))]
        used = set()
        for text in texts:
            used |= set(re.findall(r"plugin_opt_([a-z_]+)", text))
        self.assertTrue(used)
        self.assertEqual(used - set(self.known), set())


if __name__ == "__main__":
    unittest.main(verbosity=2)
