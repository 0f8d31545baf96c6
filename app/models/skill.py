"""The skill catalogue: expertise (专业特长), interests (兴趣爱好), resources (资源状况).

Synonyms live on the skill so that "律师" and "法律咨询" resolve to one code
before matching; the solver only ever sees canonical codes.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import SkillCategory
from app.models.base import Base, DistrictOwned, EnumText, Versioned


class Skill(DistrictOwned, Versioned, Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("district_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[SkillCategory] = mapped_column(EnumText(SkillCategory))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
