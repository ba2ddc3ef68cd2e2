"""Importing this module registers every built-in plugin.

Each module below registers its plugins with the decorators of `fustgo.plugins.registry`;
driver libraries are imported inside the plugins' `open()`, never here.
"""

# ruff: noqa: F401
from fustgo.plugins.inputs import files as _input_files
from fustgo.plugins.inputs import generate as _input_generate
from fustgo.plugins.inputs import http as _input_http
from fustgo.plugins.inputs import http_server as _input_http_server
from fustgo.plugins.inputs import kafka as _input_kafka
from fustgo.plugins.inputs import mqtt as _input_mqtt
from fustgo.plugins.inputs import mysql as _input_mysql
from fustgo.plugins.inputs import postgresql as _input_postgresql
from fustgo.plugins.inputs import rabbitmq as _input_rabbitmq
from fustgo.plugins.inputs import sqlite as _input_sqlite
from fustgo.plugins.inputs import websocket as _input_websocket
from fustgo.plugins.outputs import branching as _output_branching
from fustgo.plugins.outputs import files as _output_files
from fustgo.plugins.outputs import http as _output_http
from fustgo.plugins.outputs import kafka as _output_kafka
from fustgo.plugins.outputs import mqtt as _output_mqtt
from fustgo.plugins.outputs import mysql as _output_mysql
from fustgo.plugins.outputs import postgresql as _output_postgresql
from fustgo.plugins.outputs import rabbitmq as _output_rabbitmq
from fustgo.plugins.outputs import sqlite as _output_sqlite
from fustgo.plugins.outputs import stdout as _output_stdout
from fustgo.plugins.processors import aggregate as _processor_aggregate
from fustgo.plugins.processors import conditional as _processor_conditional
from fustgo.plugins.processors import date_format as _processor_date_format
from fustgo.plugins.processors import deduplicate as _processor_deduplicate
from fustgo.plugins.processors import enrichment as _processor_enrichment
from fustgo.plugins.processors import filter as _processor_filter
from fustgo.plugins.processors import json_codec as _processor_json_codec
from fustgo.plugins.processors import mapping as _processor_mapping
from fustgo.plugins.processors import merge as _processor_merge
from fustgo.plugins.processors import regex_extract as _processor_regex_extract
from fustgo.plugins.processors import split as _processor_split
from fustgo.plugins.processors import sql as _processor_sql
from fustgo.plugins.processors import transform as _processor_transform
