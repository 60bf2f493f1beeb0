"""The Printer operator as the design document's author wrote it with kopf: a create handler that
makes a Pod printing spec.text and adopts it (kopf.adopt: ownerReference, namespace), with the
kubernetes client as kopf's documentation does; and, for the status to follow the Pod, an event
handler on those Pods that copies their phase into the Printer's status.phase.

Run: kopf run --standalone -A printer.py
Environment: KUBECONFIG; PRINTER_IMAGE (default busybox:1.37).
"""
import os

import kopf
import kubernetes

IMAGE = os.environ.get("PRINTER_IMAGE", "busybox:1.37")
# The label that tells this operator's Pods apart from every other Pod it sees with -A.
MANAGED_BY = {"app.kubernetes.io/managed-by": "kopf-printer"}


@kopf.on.startup()
def configure(**_):
    kubernetes.config.load_kube_config()  # reads KUBECONFIG, as kopf itself does


@kopf.on.create("operon.dev", "v1", "printers")
def create_fn(spec, namespace, patch, logger, **_):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "print-", "labels": dict(MANAGED_BY)},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "printer", "image": IMAGE, "command": ["echo", spec["text"]]}],
        },
    }
    kopf.adopt(pod)
    created = kubernetes.client.CoreV1Api().create_namespaced_pod(namespace=namespace, body=pod)
    logger.info(f"Pod {created.metadata.name} created")
    patch.status["pod"] = created.metadata.name


@kopf.on.event("", "v1", "pods", labels=MANAGED_BY)
def pod_phase_fn(event, meta, status, namespace, memo, **_):
    owner = next((ref for ref in meta.get("ownerReferences", []) if ref.get("controller") and ref.get("kind") == "Printer"), None)
    phase = status.get("phase")
    # memo is kopf's in-memory state of this one Pod: a phase is written once, not on every event.
    if event["type"] == "DELETED" or owner is None or phase is None or memo.get("phase") == phase:
        return
    kubernetes.client.CustomObjectsApi().patch_namespaced_custom_object_status(
        "operon.dev", "v1", namespace, "printers", owner["name"], {"status": {"phase": phase}}
    )
    memo["phase"] = phase
