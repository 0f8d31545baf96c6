"""Bulk import (委员/民需导入) sentences of the bulk-write path (app/services/imports)."""

MESSAGES: dict[str, str] = {
    "problem.msg.import_row_conflict": "与已存储的数据冲突（导入期间被并发修改，或编号重复），请重新上传整个文件。",
}
