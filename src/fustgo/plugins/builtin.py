"""Importing this module registers every built-in plugin.

Each module below registers its plugins with the decorators of `fustgo.plugins.registry`;
driver libraries are imported inside the plugins' `open()`, never here.
"""

# ruff: noqa: F401
from fustgo.plugins.inputs import files as _input_files
from fustgo.plugins.inputs import generate as _input_generate
from fustgo.plugins.inputs import sqlite as _input_sqlite
from fustgo.plugins.outputs import branching as _output_branching
from fustgo.plugins.outputs import files as _output_files
from fustgo.plugins.outputs import sqlite as _output_sqlite
from fustgo.plugins.outputs import stdout as _output_stdout
from fustgo.plugins.processors import conditional as _processor_conditional
from fustgo.plugins.processors import filter as _processor_filter
from fustgo.plugins.processors import mapping as _processor_mapping
from fustgo.plugins.processors import transform as _processor_transform
