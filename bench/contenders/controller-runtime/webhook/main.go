// The CVC supply check as a controller-runtime validating webhook, for the admission latency
// comparison (bench/admission/latency.ts --contender controller-runtime): the same rule as
// operators/crypto/supply.ts (an amount above the coin's supply is refused, with the same
// message), served by controller-runtime's webhook server over HTTPS with the certificate in
// --cert-dir (tls.crt, tls.key), on 127.0.0.1:--port, path /validate.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"net/http"
	"os"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// supply is the most coins of each kind that can exist; the same table as operators/crypto/supply.ts.
var supply = map[string]string{
	"bitcoin":   "21000000",
	"ethereum":  "150000000",
	"dogecoin":  "200000000000",
	"shiba-inu": "1000000000000000",
}

type cvc struct {
	Spec struct {
		Coin   string          `json:"coin"`
		Amount json.RawMessage `json:"amount"`
	} `json:"spec"`
}

type supplyCheck struct{}

func (supplyCheck) Handle(_ context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("")
	}
	var obj cvc
	if err := json.Unmarshal(req.Object.Raw, &obj); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	limitText, known := supply[obj.Spec.Coin]
	if !known || len(obj.Spec.Amount) == 0 {
		return admission.Allowed("")
	}
	raw := string(obj.Spec.Amount)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(obj.Spec.Amount, &s); err != nil {
			return admission.Allowed("")
		}
		raw = s
	}
	amount, ok := new(big.Rat).SetString(raw)
	limit, _ := new(big.Rat).SetString(limitText)
	if !ok || amount.Cmp(limit) <= 0 {
		return admission.Allowed("")
	}
	return admission.Denied(fmt.Sprintf("spec.amount %s is more than the supply of %s (%s coins can exist); set an amount from 0 to %s", raw, obj.Spec.Coin, limitText, limitText))
}

func main() {
	certDir := flag.String("cert-dir", "", "directory with tls.crt and tls.key")
	port := flag.Int("port", 9443, "port on 127.0.0.1")
	flag.Parse()
	server := webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: *port, CertDir: *certDir})
	server.Register("/validate", &webhook.Admission{Handler: supplyCheck{}})
	if err := server.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
