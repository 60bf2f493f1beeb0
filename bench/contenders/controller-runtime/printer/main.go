// The Printer operator as a controller-runtime user writes it: a reconciler For(Printer) that
// Owns(&corev1.Pod{}), creating the Printer's Pod when its cache has none and copying the Pod's
// phase into the Printer's status.phase.
//
// Settings that matter for the comparison, as for the CVC contender (../main.go):
// MaxConcurrentReconciles 8, unstructured Printers read from the cache, no client-side QPS limit.
// The Pod's name is the Printer's name and "-print", so a create repeated from a stale cache meets
// AlreadyExists instead of making a second Pod.
//
// Environment: KUBECONFIG, PRINTER_IMAGE (default busybox:1.37), MAX_CONCURRENT_RECONCILES
// (default 8).
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

var printerGVK = schema.GroupVersionKind{Group: "operon.dev", Version: "v1", Kind: "Printer"}

type reconciler struct {
	client.Client
	image string
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	printer := &unstructured.Unstructured{}
	printer.SetGroupVersionKind(printerGVK)
	if err := r.Get(ctx, req.NamespacedName, printer); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if printer.GetDeletionTimestamp() != nil {
		return ctrl.Result{}, nil // the garbage collector deletes the Pod
	}
	pod := &corev1.Pod{}
	name := types.NamespacedName{Namespace: req.Namespace, Name: req.Name + "-print"}
	if err := r.Get(ctx, name, pod); apierrors.IsNotFound(err) {
		pod, err = r.createPod(ctx, printer, name)
		if err != nil {
			return ctrl.Result{}, err
		}
	} else if err != nil {
		return ctrl.Result{}, err
	}
	phase, _, _ := unstructured.NestedString(printer.Object, "status", "phase")
	if pod.Status.Phase == "" || string(pod.Status.Phase) == phase {
		return ctrl.Result{}, nil
	}
	patch := fmt.Sprintf(`{"status":{"pod":%q,"phase":%q}}`, pod.Name, pod.Status.Phase)
	return ctrl.Result{}, client.IgnoreNotFound(r.Status().Patch(ctx, printer, client.RawPatch(types.MergePatchType, []byte(patch))))
}

// createPod creates the Pod that prints spec.text, controlled by the Printer. AlreadyExists (the
// cache had not seen it yet) is success: the next Pod event reconciles again.
func (r *reconciler) createPod(ctx context.Context, printer *unstructured.Unstructured, name types.NamespacedName) (*corev1.Pod, error) {
	text, _, _ := unstructured.NestedString(printer.Object, "spec", "text")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name.Name, Namespace: name.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "printer-controller-runtime"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "printer", Image: r.image, Command: []string{"printenv", "PRINTER_TEXT"}, Env: []corev1.EnvVar{{Name: "PRINTER_TEXT", Value: text}}}},
		},
	}
	if err := controllerutil.SetControllerReference(printer, pod, r.Scheme()); err != nil {
		return nil, err
	}
	if err := r.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	return pod, nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	ctrl.SetLogger(zap.New())
	image := os.Getenv("PRINTER_IMAGE")
	if image == "" {
		image = "busybox:1.37"
	}
	cfg := ctrl.GetConfigOrDie()
	cfg.QPS = -1 // no client-side limit, as for every other contender (see ../main.go)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Metrics: metricsserver.Options{BindAddress: "0"},
		Client:  client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		panic(err)
	}
	printer := &unstructured.Unstructured{}
	printer.SetGroupVersionKind(printerGVK)
	err = ctrl.NewControllerManagedBy(mgr).
		For(printer).
		Owns(&corev1.Pod{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: envInt("MAX_CONCURRENT_RECONCILES", 8)}).
		Complete(&reconciler{Client: mgr.GetClient(), image: image})
	if err != nil {
		panic(err)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		panic(err)
	}
}
