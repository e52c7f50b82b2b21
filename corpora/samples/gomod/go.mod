// Module for the billing service.
module github.com/example/billing

go 1.21

toolchain go1.21.5

require (
	github.com/go-chi/chi/v5 v5.0.11
	github.com/jackc/pgx/v5 v5.5.1
	github.com/prometheus/client_golang v1.18.0
	github.com/rs/zerolog v1.31.0
	golang.org/x/sync v0.6.0
	google.golang.org/grpc v1.60.1
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.2.0 // indirect
	github.com/golang/protobuf v1.5.3 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20221227161230-091c0ba34f0a // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/prometheus/common v0.45.0 // indirect
	golang.org/x/crypto v0.17.0 // indirect
	golang.org/x/net v0.19.0 // indirect
	golang.org/x/text v0.14.0 // indirect
	google.golang.org/protobuf v1.32.0 // indirect
)

require github.com/stretchr/testify v1.8.4

replace github.com/example/ledger => ../ledger

replace (
	golang.org/x/net v0.19.0 => golang.org/x/net v0.20.0
	github.com/rs/zerolog => github.com/example/zerolog v1.31.1-patched
)

exclude github.com/prometheus/common v0.44.0

exclude (
	google.golang.org/grpc v1.59.0
	google.golang.org/grpc v1.58.3
)

retract v1.2.0 // published with a broken migration

retract (
	[v1.0.0, v1.0.5]
	v0.9.9
)
