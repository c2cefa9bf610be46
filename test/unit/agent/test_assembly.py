"""The package as the assembler needs it (src/agent/assemble.ts): every module names the globals it
uses (its own, its imports', builtins), no two modules define the same top-level name, and the
assembled program is Python 3.8 syntax, as are the scripts it renders."""

import ast
import builtins
import os
import symtable
import unittest

from wandtest import AGENT_PACKAGE_DIR, agent_source
from wand_agent import payload

MODULES = sorted(name[:-3] for name in os.listdir(AGENT_PACKAGE_DIR) if name.endswith('.py') and name != '__init__.py')


def source_of(name):
    with open(os.path.join(AGENT_PACKAGE_DIR, name + '.py')) as f:
        return f.read()


def top_level_names(tree):
    """(defined, imported) names at the top level of a module."""
    defined, imported = set(), set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Import):
            imported.update(alias.asname or alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.update(alias.asname or alias.name for alias in node.names)
    return defined, imported


def globals_used(table):
    """Global names read in a symbol table and its nested scopes (functions, classes)."""
    used = set()
    for symbol in table.get_symbols():
        if symbol.is_referenced() and (symbol.is_global() or (table.get_type() == 'module' and not symbol.is_assigned()
                                                              and not symbol.is_imported())):
            used.add(symbol.get_name())
    for child in table.get_children():
        used.update(globals_used(child))
    return used


class PackageTest(unittest.TestCase):
    def test_every_module_names_the_globals_it_uses(self):
        missing = {}
        for name in MODULES:
            source = source_of(name)
            defined, imported = top_level_names(ast.parse(source))
            unknown = globals_used(symtable.symtable(source, name + '.py', 'exec')) - defined - imported - set(dir(builtins))
            if unknown:
                missing[name] = sorted(unknown)
        self.assertEqual(missing, {}, 'names used but neither defined nor imported')

    def test_no_two_modules_define_the_same_name(self):
        owner = {}
        for name in MODULES:
            defined, _ = top_level_names(ast.parse(source_of(name)))
            for top in defined:
                self.assertNotIn(top, owner, '%s is defined in %s.py and %s.py' % (top, owner.get(top), name))
                owner[top] = name

    def test_imports_of_the_package_only_at_the_top_and_by_name(self):
        for name in MODULES:
            tree = ast.parse(source_of(name))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or '').startswith('wand_agent')):
                    self.assertTrue(node.level == 1 and node in tree.body, '%s.py line %d' % (name, node.lineno))
                if isinstance(node, ast.Import):
                    self.assertFalse([a for a in node.names if a.name.startswith('wand_agent')], name)

    def test_agent_is_python38_syntax(self):
        ast.parse(agent_source().decode(), feature_version=(3, 8))
        ast.parse(payload.render_payload({'mode': 'exec'}), feature_version=(3, 8))
        for name in MODULES:
            ast.parse(source_of(name), feature_version=(3, 8))


if __name__ == '__main__':
    unittest.main()
