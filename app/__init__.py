"""CPPCC member/demand matching service (政协委员进社区 供需匹配)."""
