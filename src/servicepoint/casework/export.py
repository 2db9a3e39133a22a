"""A case in a shape close to a FIT-Connect submission, for a back-office system (Fachverfahren).

FIT-Connect sends a submission as a metadata record (schema.fitko.de metadata 1.x:
`contentStructure`, `publicServiceType`, `additionalReferenceInfo`, `replyChannel`,
`paymentInformation`), the form data (Fachdaten) and the attachments. The export carries the
same parts unencrypted, plus what a submission has no place for: the decision, the rules'
findings with their version and trace. docs/casework-export.md documents every key. Pure:
reads the case (and the catalog through the case's own session), writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlalchemy.orm import Session, object_session

from servicepoint.casework import documents, uploads
from servicepoint.casework.models import Application, CaseUpload
from servicepoint.catalog import service as catalog_service
from servicepoint.config import Settings

EXPORT_VERSION = "1.0"
FIT_CONNECT_METADATA = "https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json"
# Stable ids: the same case exports with the same submission and attachment ids every time.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:servicepoint:casework")
# FIT-Connect's payment states (paymentInformation.status) for ours.
_PAYMENT_STATUS = {
    "open": "INITIATED",
    "paid": "BOOKED",
    "failed": "FAILED",
    "cancelled": "CANCELED",
}


def canonical_json(value: Any) -> bytes:
    """The bytes a hash is taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _hash(content: bytes) -> dict[str, str]:
    return {"type": "sha512", "content": hashlib.sha512(content).hexdigest()}


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(parts)))


def _service_type(case: Application) -> dict[str, str]:
    """LeiKa key as FIT-Connect's URN when the catalog knows it; else our own service URN."""
    session = object_session(case)
    svc = None
    if isinstance(session, Session):
        svc = catalog_service.services_by_ids(session, ids=[case.service_id]).get(case.service_id)
    if svc is not None and svc.leika:
        identifier = f"urn:de:fim:leika:leistung:{svc.leika}"
    else:
        identifier = f"urn:servicepoint:service:{case.service_id}"
    return {"identifier": identifier, "name": svc.name_de if svc else case.service_id}


def _upload(case: Application, upload: CaseUpload, settings: Settings) -> dict[str, Any]:
    """An upload's entry, with the hash of the bytes in storage (a back-office system checks
    the file it fetches against it)."""
    content = uploads.open_upload(upload.storage_key, settings)
    return {
        "attachmentId": _id(case.code, "upload", str(upload.id)),
        "filename": upload.filename,
        "mimeType": upload.content_type,
        "purpose": "attachment",
        "description": upload.name,
        "size": upload.size,
        "hash": _hash(content),
    }


def _result_document(case: Application) -> dict[str, Any] | None:
    if case.document is None:
        return None
    return {
        "attachmentId": _id(case.code, "document"),
        "filename": f"{case.service_id}-{case.code}.pdf",
        "mimeType": "application/pdf",
        "purpose": "report",
        "description": "Ergebnisdokument (signiert)",
        "size": len(case.document),
        "hash": _hash(case.document),
    }


def _attachments(case: Application, settings: Settings) -> list[dict[str, Any]]:
    found = [_upload(case, u, settings) for u in case.uploads]
    document = _result_document(case)
    return [*found, document] if document else found


def _payment(case: Application) -> dict[str, Any] | None:
    if not case.payment:
        return None
    return {
        "paymentMethod": "INVOICE" if case.payment.get("method") == "invoice" else "OTHER",
        "status": _PAYMENT_STATUS.get(str(case.payment.get("state")), "INITIATED"),
        # The provider's reference, never the case code (the key to the citizen's status page).
        "transactionReference": case.payment.get("reference"),
    }


def _metadata(
    case: Application, data: dict[str, Any], attachments: list[dict[str, Any]]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "$schema": FIT_CONNECT_METADATA,
        "contentStructure": {
            "data": {
                "submissionSchema": {
                    "schemaUri": f"urn:servicepoint:form:{case.service_id}:{case.rules_version}",
                    "mimeType": "application/json",
                },
                "hash": _hash(canonical_json(data)),
            },
            "attachments": [
                {
                    k: v
                    for k, v in a.items()
                    if k
                    in ("attachmentId", "filename", "mimeType", "purpose", "description", "hash")
                }
                for a in attachments
            ],
        },
        "publicServiceType": _service_type(case),
        "additionalReferenceInfo": {
            "senderReference": documents.grouped(case.code),
            "applicationDate": case.submitted_at.date().isoformat() if case.submitted_at else None,
        },
    }
    if case.applicant.get("email"):
        metadata["replyChannel"] = {"eMail": {"address": case.applicant["email"]}}
    payment = _payment(case)
    if payment:
        metadata["paymentInformation"] = payment
    return metadata


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _decision(case: Application) -> dict[str, Any]:
    return {
        "status": case.status,
        "proposal": case.proposal,
        "decidedAt": _time(case.decided_at),
        "decidedBy": case.decided_by,  # null: decided automatically (statute in the form file)
        "automatic": case.decided_at is not None and case.decided_by is None,
        "reason": case.decision_reason,
        "verificationCode": documents.grouped(case.verification_code)
        if case.verification_code
        else None,
        "rulesVersion": case.rules_version,
        "findings": [
            {k: f.get(k) for k in ("rule", "outcome", "detail", "detail_en")} for f in case.findings
        ],
        "trace": case.trace,
    }


def export_case(case: Application, *, settings: Settings) -> dict[str, Any]:
    """The case as one JSON document (docs/casework-export.md); reads the uploaded files
    from storage for their hashes."""
    data = {"applicant": dict(case.applicant), "answers": dict(case.data)}
    attachments = _attachments(case, settings)
    return {
        "exportVersion": EXPORT_VERSION,
        "submissionId": _id(case.code, "submission"),
        "caseId": documents.grouped(case.code),
        "serviceType": _service_type(case),
        "submittedAt": _time(case.submitted_at),
        "language": case.lang,
        "metadata": _metadata(case, data, attachments),
        "data": data,
        "attachments": attachments,
        "fee": {"amountCents": case.fee_cents, "payment": case.payment or None},
        "decision": _decision(case),
    }
