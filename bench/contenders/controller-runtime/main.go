// The CVC operator as a controller-runtime user writes it: one reconciler over unstructured
// CryptoValueCalculators, RequeueAfter for the periodic recompute, and one price cache shared by
// all reconciles (one /simple/price request per refresh interval for every coin).
//
// Settings that matter for the comparison: MaxConcurrentReconciles 8 (Operon's default concurrency;
// controller-runtime's own default is 1), reads of unstructured objects served from the cache, no
// client-side QPS limit (see main).
//
// Environment: KUBECONFIG, COINGECKO_BASE_URL (default the public API), REFRESH_SECONDS (default
// 60), MAX_CONCURRENT_RECONCILES (default 8).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

var cvcGVK = schema.GroupVersionKind{Group: "crypto.tools", Version: "v1", Kind: "CryptoValueCalculator"}

// priceCache answers every reconcile from one shared request per refresh interval.
type priceCache struct {
	baseURL  string
	interval time.Duration
	http     *http.Client

	mu        sync.Mutex
	coins     map[string]bool
	prices    map[string]string // coin → price as the decimal text CoinGecko sent
	fetchedAt time.Time
}

func (p *priceCache) get(ctx context.Context, coin string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock() // one request at a time; concurrent reconciles wait for it and share it
	p.coins[coin] = true
	if _, ok := p.prices[coin]; !ok || time.Since(p.fetchedAt) >= p.interval {
		if err := p.fetch(ctx); err != nil {
			return "", err
		}
	}
	price, ok := p.prices[coin]
	if !ok {
		return "", fmt.Errorf("no USD price for %q", coin)
	}
	return price, nil
}

func (p *priceCache) fetch(ctx context.Context) error {
	ids := make([]string, 0, len(p.coins))
	for c := range p.coins {
		ids = append(ids, c)
	}
	sort.Strings(ids)
	url := p.baseURL + "/simple/price?vs_currencies=usd&ids=" + strings.Join(ids, ",")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := p.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("price API: HTTP %d", res.StatusCode)
	}
	var body map[string]map[string]json.Number
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return err
	}
	p.prices = map[string]string{}
	for coin, quote := range body {
		if usd, ok := quote["usd"]; ok {
			p.prices[coin] = usd.String()
		}
	}
	p.fetchedAt = time.Now()
	return nil
}

// usdValue is amount × price rounded half-up to 4 places, as "$X.XXXX", computed exactly.
func usdValue(amount, price string) (string, error) {
	a, ok1 := new(big.Rat).SetString(amount)
	p, ok2 := new(big.Rat).SetString(price)
	if !ok1 || !ok2 {
		return "", fmt.Errorf("not a number: %q × %q", amount, price)
	}
	v := new(big.Rat).Mul(a, p)
	scaled := new(big.Rat).Mul(v, big.NewRat(10000, 1))
	q, r := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	if new(big.Int).Mul(r.Abs(r), big.NewInt(2)).Cmp(scaled.Denom()) >= 0 {
		if scaled.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	sign := ""
	if q.Sign() < 0 {
		sign = "-"
		q.Neg(q)
	}
	digits := fmt.Sprintf("%05s", q.String())
	return fmt.Sprintf("%s$%s.%s", sign, digits[:len(digits)-4], digits[len(digits)-4:]), nil
}

type reconciler struct {
	client.Client
	prices   *priceCache
	interval time.Duration
}

func (r *reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	cvc := &unstructured.Unstructured{}
	cvc.SetGroupVersionKind(cvcGVK)
	if err := r.Get(ctx, req.NamespacedName, cvc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	coin, _, _ := unstructured.NestedString(cvc.Object, "spec", "coin")
	amount, err := amountText(cvc.Object)
	if err != nil {
		return ctrl.Result{}, err
	}
	price, err := r.prices.get(ctx, coin)
	if err != nil {
		return ctrl.Result{}, err
	}
	value, err := usdValue(amount, price)
	if err != nil {
		return ctrl.Result{}, err
	}
	if cvc.GetAnnotations()["value"] != value {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"value":%q}}}`, value)
		if err := r.Patch(ctx, cvc, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return ctrl.Result{RequeueAfter: r.interval}, nil
}

// amountText is spec.amount as the decimal text the user wrote (integers and floats alike).
func amountText(obj map[string]interface{}) (string, error) {
	raw, found, _ := unstructured.NestedFieldNoCopy(obj, "spec", "amount")
	switch v := raw.(type) {
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("spec.amount missing or not a number (found=%v, %T)", found, raw)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	ctrl.SetLogger(zap.New())
	interval := time.Duration(envInt("REFRESH_SECONDS", 60)) * time.Second
	baseURL := os.Getenv("COINGECKO_BASE_URL")
	if baseURL == "" {
		baseURL = "https://api.coingecko.com/api/v3"
	}
	cfg := ctrl.GetConfigOrDie()
	// controller-runtime's default client-side limiter (QPS 20, burst 30) would cap every
	// contender's writes at 20/s; the others have no client-side limit, so this one has none either
	// and the API server's own flow control is what pushes back.
	cfg.QPS = -1
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Without this, Get of an unstructured object bypasses the informer cache and costs one
		// GET per reconcile; typed objects are cached by default, and so are these now.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
	})
	if err != nil {
		panic(err)
	}
	cvc := &unstructured.Unstructured{}
	cvc.SetGroupVersionKind(cvcGVK)
	r := &reconciler{
		Client:   mgr.GetClient(),
		prices:   &priceCache{baseURL: strings.TrimRight(baseURL, "/"), interval: interval, http: &http.Client{Timeout: 10 * time.Second}, coins: map[string]bool{}},
		interval: interval,
	}
	err = ctrl.NewControllerManagedBy(mgr).
		For(cvc).
		WithOptions(controller.Options{MaxConcurrentReconciles: envInt("MAX_CONCURRENT_RECONCILES", 8)}).
		Complete(r)
	if err != nil {
		panic(err)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		panic(err)
	}
}
