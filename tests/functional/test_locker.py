"""The evidence locker: upload, refusals, duplicates, downloads, removal, tenancy, API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from appeals.models import EvidenceItem
from merchant_portal.database import db
from tests.conftest import World, csrf_token, log_in, post_form
from tests.factories import hostile_uploads, jpeg_with_gps, pdf_bytes, png_bytes


def merchant(app: Flask, who: str = "owner_a") -> FlaskClient:
    client = app.test_client()
    log_in(client, f"{who}@test.example")
    return client


def upload(
    client: FlaskClient,
    complaint_id: int,
    files: list[tuple[bytes, str]],
    json: bool = False,
    **fields: str,
):  # type: ignore[no-untyped-def]
    url = f"/complaints/{complaint_id}/evidence"
    data: dict[str, object] = {
        "files": [(io.BytesIO(content), name) for content, name in files],
        "kind": fields.get("kind", "chat_screenshot"),
        "caption": fields.get("caption", ""),
        "csrf_token": csrf_token(client, url),
    }
    headers = {"Accept": "application/json"} if json else {}
    return client.post(url, data=data, content_type="multipart/form-data", headers=headers)


def items(app: Flask) -> int:
    """Items beyond the one the test world starts with."""
    with app.app_context():
        return (db().scalar(select(func.count()).select_from(EvidenceItem)) or 0) - 1


def newest(app: Flask) -> EvidenceItem:
    with app.app_context():
        item = db().scalar(select(EvidenceItem).order_by(EvidenceItem.id.desc()).limit(1))
        assert item is not None
        return item


def stored_files(app: Flask, world: World) -> list[Path]:
    """Blob files other than the test world's own item."""
    root = Path(app.config["DATA_DIR"]) / "blobs"
    return [p for p in root.rglob("*") if p.is_file() and p.name != world.evidence_a.blob_key]


def test_a_batch_is_taken_in_and_shown_with_thumbnails_and_pages(app: Flask, world: World) -> None:
    client = merchant(app)
    response = upload(
        client, world.complaint_a.id,
        [
            (png_bytes(), "聊天截图.png"),
            (pdf_bytes(3), "receipt.pdf"),
            (b"MZ" + bytes(100), "evil.png"),
        ],
        caption="Buyer threatens a bad review",
    )  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('class="upload-result accepted"') == 2
    assert 'class="upload-result refused"' in html and "not accepted" in html
    assert "聊天截图.png" in html and "3 pages" in html and "Buyer threatens a bad review" in html
    assert items(app) == 2


def test_json_answers_one_result_per_file(app: Flask, world: World) -> None:
    client = merchant(app)
    response = upload(client, world.complaint_a.id, [(png_bytes(), "a.png")], json=True)
    assert response.status_code == 200
    assert response.get_json()[0]["accepted"] is True
    again = upload(client, world.complaint_a.id, [(png_bytes(), "same.png")], json=True)
    assert again.status_code == 422
    result = again.get_json()[0]
    assert result["code"] == "duplicate" and "a.png" in result["message"]


@pytest.mark.parametrize("name", sorted(hostile_uploads()))
def test_hostile_uploads_are_refused_and_leave_nothing(app: Flask, world: World, name: str) -> None:
    data, code = hostile_uploads()[name]
    client = merchant(app)
    response = upload(
        client, world.complaint_a.id, [(data, "x\x07../../etc/passwd.png")], json=True
    )
    assert response.status_code == 422
    assert response.get_json()[0]["code"] == code
    assert items(app) == 0 and stored_files(app, world) == []
    quarantine = Path(app.config["DATA_DIR"]) / "quarantine"
    assert not quarantine.exists() or list(quarantine.iterdir()) == []
    assert client.get(f"/complaints/{world.complaint_a.id}/evidence").status_code == 200


def test_original_download_is_an_attachment_with_safe_headers(app: Flask, world: World) -> None:
    client = merchant(app)
    photo = jpeg_with_gps()
    upload(client, world.complaint_a.id, [(photo, "照片\x07 \u202egpj.exe.jpg")], json=True)
    item = newest(app)
    response = client.get(f"/evidence/{item.id}/original")
    body = response.get_data()
    response.close()
    assert response.status_code == 200 and body == photo, "the original is unchanged"
    assert response.mimetype == "image/jpeg"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "\u202e" not in disposition and "\x07" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "private, no-store"
    thumb = client.get(f"/evidence/{item.id}/thumbnail")
    thumbnail = thumb.get_data()
    thumb.close()
    assert thumb.mimetype == "image/jpeg" and b"PhoneMaker" not in thumbnail


def test_another_shop_sees_nothing_of_my_locker(app: Flask, world: World) -> None:
    upload(merchant(app), world.complaint_a.id, [(png_bytes(), "mine.png")], json=True)
    item = newest(app)
    other = merchant(app, "owner_b")
    assert other.get(f"/complaints/{world.complaint_a.id}/evidence").status_code == 404
    assert other.get(f"/evidence/{item.id}/original").status_code == 404
    assert other.get(f"/evidence/{item.id}/thumbnail").status_code == 404
    token = csrf_token(other)
    assert other.post(f"/evidence/{item.id}/remove", data={"csrf_token": token}).status_code == 404
    # The same bytes in another shop are that shop's own upload, not a duplicate.
    response = upload(other, world.complaint_b.id, [(png_bytes(), "theirs.png")], json=True)
    assert response.get_json()[0]["accepted"] is True


def test_removal_then_sweep_deletes_the_blobs(app: Flask, world: World) -> None:
    client = merchant(app)
    upload(client, world.complaint_a.id, [(png_bytes(), "a.png")], json=True)
    item = newest(app)
    url = f"/complaints/{world.complaint_a.id}/evidence"
    response = post_form(client, f"/evidence/{item.id}/remove", {}, page=url)
    assert response.status_code == 302 and items(app) == 0
    left = stored_files(app, world)
    assert left, "blobs stay until the sweep"
    result = app.test_cli_runner().invoke(args=["sweep-orphans", "--min-age", "0"])
    assert f"{len(left)} orphan blobs removed, 0 stale quarantine files removed" in result.output
    assert stored_files(app, world) == []


def test_platform_token_adds_platform_native_evidence_by_api(app: Flask, world: World) -> None:
    api = app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens['platform'][1]}"}
    response = api.post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        data={"file": (io.BytesIO(pdf_bytes(1)), "waybill.pdf"), "kind": "logistics_tracking"},
        content_type="multipart/form-data", headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["provenance"] == "platform_native" and body["pages"] == 1
    page = merchant(app).get(f"/complaints/{world.complaint_a.id}/evidence").get_data(as_text=True)
    assert "Platform record" in page and "waybill.pdf" in page

    mine = api.post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        data={"file": (io.BytesIO(png_bytes()), "x.png"), "kind": "other"},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {world.tokens['owner_a'][1]}"},
    )
    assert mine.get_json()["provenance"] == "merchant_uploaded"
    refused = api.post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        data={"file": (io.BytesIO(b"<svg/>"), "x.svg"), "kind": "other"},
        content_type="multipart/form-data", headers=headers,
    )  # fmt: skip
    assert refused.status_code == 422 and refused.get_json()["field"] == "file"
    foreign = api.post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        data={"file": (io.BytesIO(png_bytes((9, 9))), "x.png"), "kind": "other"},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {world.tokens['owner_b'][1]}"},
    )
    assert foreign.status_code == 404


def test_chat_export_phrases_reach_the_dossier(app: Flask, world: World) -> None:
    client = merchant(app)
    chat = "买家 10:02 不给退款就去12315投诉到底\n客服 10:05 请您提供照片\n".encode()
    upload(client, world.complaint_a.id, [(chat, "chat.txt")], json=True, kind="chat_export")
    page = client.get(f"/complaints/{world.complaint_a.id}").get_data(as_text=True)
    assert "12315" in page and "投诉到底" in page and "不给退款" in page


def test_redaction_covers_the_boxes_keeps_the_original_and_is_audited(
    app: Flask, world: World
) -> None:
    from PIL import Image

    from appeals.models import AuditEvent

    client = merchant(app)
    photo = png_bytes((200, 100), "white")
    upload(client, world.complaint_a.id, [(photo, "address.png")], json=True)
    item = newest(app)
    url = f"/evidence/{item.id}/redact"
    assert client.get(url).status_code == 200
    bad = post_form(client, url, {"boxes": "10, 10, 200, 5"}, page=url)
    assert bad.status_code == 422 and "outside the image" in bad.get_data(as_text=True)
    response = post_form(client, url, {"boxes": "50, 0, 50, 100"}, page=url)
    assert response.status_code == 302
    redacted = client.get(f"/evidence/{item.id}/preview?redacted=1")
    with Image.open(io.BytesIO(redacted.get_data())) as image:
        assert image.getpixel((10, 50))[:3] == (255, 255, 255), "the left half is untouched"
        assert image.getpixel((150, 50))[:3] == (0, 0, 0), "the right half is covered"
    redacted.close()
    original = client.get(f"/evidence/{item.id}/original")
    assert original.get_data() == photo, "the original is kept byte for byte"
    original.close()
    with app.app_context():
        event = db().scalar(select(AuditEvent).where(AuditEvent.action == "evidence.redacted"))
        assert event is not None and event.after["boxes"] == [[0.5, 0.0, 0.5, 1.0]]  # type: ignore[index]
        assert event.actor_label == "owner_a@test.example"


@pytest.mark.parametrize(
    ("settings", "code"),
    [
        ({"EVIDENCE_MAX_BYTES": 1024}, "too_large"),
        ({"EVIDENCE_MAX_FILES": 1}, "too_many_files"),
        ({"EVIDENCE_SHOP_QUOTA_BYTES": 600}, "quota"),
    ],
    indirect=["settings"],
)
def test_size_count_and_quota_limits_refuse_with_their_reason(
    app: Flask, world: World, code: str
) -> None:
    client = merchant(app)
    response = upload(
        client,
        world.complaint_a.id,
        [(png_bytes((300, 300), "teal") + bytes(2048), "big.png")],
        json=True,
    )
    assert response.get_json()[0]["code"] == code
    assert items(app) == 0 and stored_files(app, world) == []


def test_csv_formula_cells_are_kept_as_literal_text(app: Flask, world: World) -> None:
    client = merchant(app)
    csv_data = '订单号,备注\nA1,"=HYPERLINK(""http://evil.example"")"\n'.encode()
    response = upload(
        client, world.complaint_a.id, [(csv_data, "orders.csv")], json=True, kind="order_history"
    )
    assert response.get_json()[0]["accepted"] is True
    item = newest(app)
    assert item.media_type == "text/csv" and item.rows == 1


def test_the_budget_bar_shows_from_the_first_upload(app: Flask, world: World) -> None:
    from tests.bundles import photo

    client = merchant(app)
    url = f"/complaints/{world.complaint_a.id}/evidence"
    page = client.get(url).get_data(as_text=True)
    assert "Bundle size if every file is cited" in page  # the world's own item
    upload(client, world.complaint_a.id, [(photo((4000, 3000), orientation=1), "big.jpg")],
           kind="product_photo")  # fmt: skip
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="locker-budget"' in page
    assert "1 image will be downscaled to at most 2000 pixels" in page
    assert "/ 50 MB · 2 pages" in page


def test_no_write_lock_is_held_while_an_upload_decodes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Another writer gets through at once while a file is in the sandbox."""
    from sqlalchemy import create_engine, text

    from appeals import locker as domain
    from appeals import migrate
    from merchant_portal import create_app
    from tests.conftest import World, fresh_database, make_config

    with fresh_database(tmp_path) as url:
        app = create_app(make_config(tmp_path, DATABASE_URL=url))
        migrate.upgrade(app.config["DATABASE_ENGINE"])
        with app.app_context():
            world = World(db(), tmp_path)
            db().commit()
            complaint_id = world.complaint_a.id
        other = create_engine(url, connect_args={"timeout": 0} if url.startswith("sqlite") else {})
        writes: list[str] = []
        real = domain.inspect

        def inspect_while_someone_writes(*args, **kwargs):  # type: ignore[no-untyped-def]
            with other.begin() as connection:  # fails at once if a write lock is held
                connection.execute(text("UPDATE shop SET name = name"))
            writes.append("ok")
            return real(*args, **kwargs)

        monkeypatch.setattr(domain, "inspect", inspect_while_someone_writes)
        client = app.test_client()
        client.environ_base["HTTP_REFERER"] = "https://localhost/"
        log_in(client, "owner_a@test.example")
        response = upload(client, complaint_id, [(png_bytes(), "a.png"), (pdf_bytes(1), "b.pdf")])
        assert response.get_data(as_text=True).count('class="upload-result accepted"') == 2
        assert writes == ["ok", "ok"]
        other.dispose()
        app.config["DATABASE_ENGINE"].dispose()


def test_one_courier_trace_serves_two_complaints_without_a_second_upload(
    app: Flask, world: World
) -> None:
    from datetime import timedelta

    from appeals import complaints, locker
    from appeals.clock import utcnow
    from appeals.models import ComplaintChannel, ComplaintType, Shop
    from appeals.policies import DEFAULT_POLICIES

    client = merchant(app)
    # Days before the complaints, on the product's clock.
    collected, signed = (utcnow() - timedelta(days=days) for days in (5, 3))
    trace = (
        f"{collected:%Y-%m-%d %H:%M:%S} 顺丰速运 已收取快件\n"
        f"{signed:%Y-%m-%d %H:%M:%S} 已签收，签收人：本人\n"
    ).encode()
    first = upload(client, world.complaint_a.id, [(trace, "顺丰轨迹.txt")], json=True,
                   kind="logistics_tracking")  # fmt: skip
    assert first.status_code == 200, first.get_json()
    with app.app_context():
        shop = db().get_one(Shop, world.shop_a.id)
        second, third = (
            complaints.record_complaint(
                db(), shop, external_id=f"A-{n}", type=ComplaintType.NOT_RECEIVED,
                channel=ComplaintChannel.ONLINE, description="没收到", buyer_ref="b",
                received_at=utcnow() - timedelta(hours=1), policy=DEFAULT_POLICIES.deadlines,
            )
            for n in (2, 3)
        )  # fmt: skip
        db().commit()
        second_id, third_id = second.id, third.id

    page = client.get(f"/complaints/{second_id}/evidence").get_data(as_text=True)
    assert 'data-testid="attach-form"' in page and "顺丰轨迹.txt" in page
    source = newest(app)
    attach_url = f"/complaints/{second_id}/evidence/attach"
    page_url = f"/complaints/{second_id}/evidence"
    response = post_form(client, attach_url, {"item_id": str(source.id)}, page_url)
    assert response.status_code == 302
    attached = newest(app)
    assert attached.complaint_id == second_id and attached.blob_key == source.blob_key
    again = post_form(client, attach_url, {"item_id": str(source.id)}, page_url)
    assert again.status_code == 422, "it is already here, and no longer offered"

    # Uploading the same file on a third complaint files it there too, sharing the blobs.
    third_upload = upload(client, third_id, [(trace, "again.txt")], json=True,
                          kind="logistics_tracking")  # fmt: skip
    assert third_upload.get_json()[0]["accepted"] is True
    assert newest(app).complaint_id == third_id and newest(app).blob_key == source.blob_key

    # Removing the first copy leaves the others and their blob.
    post_form(client, f"/evidence/{source.id}/remove", {},
              f"/complaints/{world.complaint_a.id}/evidence")  # fmt: skip
    with app.app_context():
        assert source.blob_key in locker.referenced_keys(db())

    # Another shop cannot attach shop A's file.
    other = merchant(app, "owner_b")
    refused = post_form(other, f"/complaints/{world.complaint_b.id}/evidence/attach",
                        {"item_id": str(attached.id)},
                        f"/complaints/{world.complaint_b.id}/evidence")  # fmt: skip
    assert refused.status_code == 422


def test_the_platforms_own_files_cannot_be_removed_by_the_shop(app: Flask, world: World) -> None:
    api = app.test_client()
    response = api.post(
        f"/api/v1/complaints/{world.complaint_a.id}/evidence",
        data={"file": (io.BytesIO(png_bytes((20, 20), "teal")), "platform.png"), "kind": "other"},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {world.tokens['platform'][1]}"},
    )
    item_id = response.get_json()["id"]
    client = merchant(app)
    locker = f"/complaints/{world.complaint_a.id}/evidence"
    page = client.get(locker).get_data(as_text=True)
    assert f'action="/evidence/{item_id}/remove"' not in page
    assert f'action="/evidence/{world.evidence_a.id}/remove"' in page  # the shop's own: asks
    assert "Yes, remove it" in page
    refused = post_form(client, f"/evidence/{item_id}/remove", {}, locker)
    assert refused.status_code == 302
    shown = client.get(locker).get_data(as_text=True)
    assert "the platform&#39;s own record; the shop cannot remove it" in shown
    with app.app_context():
        assert db().get(EvidenceItem, item_id) is not None


def test_kind_and_caption_are_put_right_until_a_submitted_version_cites_the_file(
    app: Flask, world: World
) -> None:
    client = merchant(app)
    locker = f"/complaints/{world.complaint_a.id}/evidence"
    url = f"/evidence/{world.evidence_a.id}/edit"
    done = post_form(client, url, {"kind": "logistics_tracking", "caption": "  SF trace  "}, locker)
    assert done.status_code == 302
    with app.app_context():
        item = db().get_one(EvidenceItem, world.evidence_a.id)
        assert item.kind.value == "logistics_tracking" and item.caption == "SF trace"
    long = post_form(client, url, {"kind": "other", "caption": "x" * 301}, locker)
    html = long.get_data(as_text=True)
    assert long.status_code == 422 and "Field cannot be longer than 300 characters." in html
    assert 'value="' + "x" * 301 in html  # what was typed is kept, next to its message
    with app.app_context():
        assert db().get_one(EvidenceItem, world.evidence_a.id).kind.value == "logistics_tracking"
    other_shop = merchant(app, "owner_b")
    assert post_form(other_shop, url, {"kind": "other"}, "/inbox").status_code == 404


def test_a_file_a_submitted_version_cites_keeps_its_kind(app: Flask, world: World, version) -> None:  # type: ignore[no-untyped-def]
    cited = version.content["exhibits"][0]["evidence_id"]
    client = merchant(app)
    locker = f"/complaints/{world.complaint_a.id}/evidence"
    refused = post_form(
        client, f"/evidence/{cited}/edit", {"kind": "other", "caption": "x"}, locker
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    form = html[html.index(f'action="/evidence/{cited}/edit"') :][:3000]
    assert "The appeal has been submitted; its evidence can no longer change." in form


def test_a_removed_file_id_is_never_given_to_the_next_file(app: Flask, world: World) -> None:
    client = merchant(app)
    complaint = world.complaint_a.id
    upload(client, complaint, [(png_bytes((60, 60), "red"), "first.png")], json=True)
    removed = newest(app)
    locker = f"/complaints/{complaint}/evidence"
    assert post_form(client, f"/evidence/{removed.id}/remove", {}, locker).status_code == 302
    answer = upload(client, complaint, [(png_bytes((60, 60), "blue"), "second.png")], json=True)
    added = answer.get_json()[0]
    assert added["accepted"] and added["id"] > removed.id
    # The new file is also sent as the gallery draws it, to be shown without a reload.
    assert "second.png" in added["html"] and 'data-testid="evidence-item"' in added["html"]
    assert client.get(f"/evidence/{removed.id}/original").status_code == 404
