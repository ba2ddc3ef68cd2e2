-- The source table of examples/postgresql-incremental.yaml: 20 orders, `updated_at` set by
-- every insert and update (the column the incremental read follows).
--   psql -h 127.0.0.1 -U postgres test -f examples/postgresql-incremental.sql
CREATE TABLE IF NOT EXISTS public.shop_orders (
    id bigint PRIMARY KEY,
    customer text NOT NULL,
    amount numeric(12,2) NOT NULL,
    status text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS shop_orders_updated_at ON public.shop_orders (updated_at, id);

INSERT INTO public.shop_orders (id, customer, amount, status, updated_at)
SELECT g, 'customer ' || g, g * 10.25, 'new', timestamptz '2026-01-01 00:00+00' + g * interval '1 hour'
FROM generate_series(1, 20) AS g
ON CONFLICT (id) DO NOTHING;
