"""REST: task tracking (theo dõi nhiệm vụ) and its statistics."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from vanthu_contracts.events.routing import TaskState
from vanthu_routing.api.deps import OnBehalfOf, service
from vanthu_routing.domain.tasks import TaskAction
from vanthu_routing.services.tasks import TaskService
from vanthu_runtime.auth import CurrentPrincipal

Tasks = Annotated[TaskService, service("tasks")]
router = APIRouter(prefix="/api/v1", tags=["tasks"])


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    description: str = Field("", max_length=4000, description="e.g. the instruction of the document")
    owner_unit_id: str = Field(min_length=1, max_length=36, description="Đơn vị chủ trì")
    assignee_id: str | None = Field(None, max_length=36, description="A person inside the owner unit")
    deadline: date | None = Field(None, description="None: không thời hạn")
    expected_result: str = Field("", max_length=2000, description="Sản phẩm / kết quả dự kiến")
    source_document_id: str | None = Field(None, max_length=36, description="Giao việc từ văn bản")
    version: int | None = Field(None, description="Sub-tasks: version of the parent task you acted on")


class TaskActionIn(BaseModel):
    action: TaskAction
    note: str = Field("", max_length=4000)
    percent: int | None = Field(None, ge=0, le=100)
    version: int | None = None


@router.post("/tasks", summary="Giao nhiệm vụ / create a task (leaders)")
async def create(body: TaskIn, principal: CurrentPrincipal, tasks: Tasks, on_behalf_of: OnBehalfOf = None) -> dict[str, Any]:
    return await tasks.create(principal, body.model_dump(), on_behalf_of=on_behalf_of)


@router.post("/tasks/{task_id}/subtasks", summary="Giao xuống / pass a task down inside the unit")
async def subtask(
    task_id: str, body: TaskIn, principal: CurrentPrincipal, tasks: Tasks, on_behalf_of: OnBehalfOf = None
) -> dict[str, Any]:
    return await tasks.create(principal, body.model_dump(), parent_id=task_id, on_behalf_of=on_behalf_of)


@router.post(
    "/tasks/{task_id}/actions",
    summary="Báo cáo, hoàn thành, xác nhận, trả lại, tạm dừng, tiếp tục, hủy / act on a task",
)
async def act(
    task_id: str, body: TaskActionIn, principal: CurrentPrincipal, tasks: Tasks, on_behalf_of: OnBehalfOf = None
) -> dict[str, Any]:
    return await tasks.act(
        principal, task_id, body.action, note=body.note, percent=body.percent, expected_version=body.version,
        on_behalf_of=on_behalf_of,
    )


@router.get("/tasks/statistics", summary="Thống kê nhiệm vụ theo mẫu VPCP / statistics as the Government Office reports")
async def statistics(
    principal: CurrentPrincipal,
    tasks: Tasks,
    date_from: date | None = None,
    date_to: date | None = None,
    by_unit: bool = False,
) -> dict[str, Any]:
    return await tasks.statistics(principal, date_from=date_from, date_to=date_to, by_unit=by_unit)


@router.get("/tasks/{task_id}", summary="Một nhiệm vụ / one task with its history")
async def get(task_id: str, principal: CurrentPrincipal, tasks: Tasks) -> dict[str, Any]:
    return await tasks.get(principal, task_id)


@router.get("/tasks", summary="Danh sách nhiệm vụ / list tasks")
async def list_tasks(
    principal: CurrentPrincipal,
    tasks: Tasks,
    owner_unit_id: str | None = None,
    state: TaskState | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    return await tasks.list(principal, owner_unit_id=owner_unit_id, state=state, overdue=overdue, limit=limit, offset=offset)
