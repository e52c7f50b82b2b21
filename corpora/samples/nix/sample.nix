# Development environment and package for the inventory service
{ pkgs ? import <nixpkgs> { }
, lib ? pkgs.lib
, enableTests ? true
, extraPackages ? [ ]
}:

let
  version = "2.4.1";
  pname = "inventory-service";

  # Helper to build a version string with a suffix
  mkVersion = base: suffix:
    if suffix == null then base else "${base}-${suffix}";

  commonInputs = with pkgs; [
    openssl
    pkg-config
    sqlite
  ];

  ports = {
    http = 8080;
    metrics = 9090;
  };

  configFile = pkgs.writeText "inventory.conf" ''
    listen = 0.0.0.0:${toString ports.http}
    metrics = ${toString ports.metrics}
    debug = ${lib.boolToString enableTests}
  '';
in
rec {
  package = pkgs.rustPlatform.buildRustPackage {
    inherit pname;
    version = mkVersion version "nix";
    src = ./.;
    cargoLock.lockFile = ./Cargo.lock;
    nativeBuildInputs = commonInputs;
    doCheck = enableTests;
    postInstall = ''
      mkdir -p $out/etc
      cp ${configFile} $out/etc/inventory.conf
    '';
    meta = with lib; {
      description = "A small inventory service";
      license = licenses.mit;
      platforms = platforms.linux ++ platforms.darwin;
    };
  };

  shell = pkgs.mkShell {
    buildInputs = commonInputs ++ extraPackages ++ [ pkgs.cargo pkgs.rustc ];
    RUST_LOG = "debug";
    shellHook = ''
      echo "inventory dev shell (${version})"
    '';
  };

  checks = lib.optionalAttrs enableTests {
    unit = package.overrideAttrs (old: {
      doCheck = true;
      checkFlags = (old.checkFlags or [ ]) ++ [ "--skip=integration" ];
    });
  };

  portList = builtins.map (name: ports.${name}) (builtins.attrNames ports);
  ratio = 0.75;
  isLinux = assert builtins.isString version; pkgs.stdenv.isLinux;
}
