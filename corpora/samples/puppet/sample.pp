# Manages an nginx web server with a set of virtual hosts.
class profile::webserver (
  String $server_name = $facts['networking']['fqdn'],
  Integer[1, 65535] $port = 80,
  Boolean $enable_tls = false,
  Array[String] $allowed_ips = ['10.0.0.0/8', '192.168.0.0/16'],
  Hash[String, Hash] $vhosts = {},
  Optional[String] $tls_cert = undef,
) {
  $package_name = $facts['os']['family'] ? {
    'RedHat' => 'nginx',
    'Debian' => 'nginx-full',
    default  => 'nginx',
  }

  package { $package_name:
    ensure => installed,
  }

  file { '/etc/nginx/nginx.conf':
    ensure  => file,
    owner   => 'root',
    group   => 'root',
    mode    => '0644',
    content => template('profile/nginx.conf.erb'),
    require => Package[$package_name],
    notify  => Service['nginx'],
  }

  if $enable_tls {
    if $tls_cert == undef {
      fail("TLS enabled on ${server_name} but no certificate given")
    }
    file { '/etc/nginx/tls':
      ensure => directory,
      mode   => '0700',
    }
  } elsif $port != 80 {
    notice("Serving plain HTTP on non-standard port ${port}")
  }

  $vhosts.each |$name, $config| {
    profile::webserver::vhost { $name:
      docroot => pick($config['docroot'], "/var/www/${name}"),
      port    => $port,
    }
  }

  case $facts['os']['family'] {
    'RedHat': { $service_provider = 'systemd' }
    'Debian', 'Ubuntu': { $service_provider = 'systemd' }
    default: { $service_provider = undef }
  }

  service { 'nginx':
    ensure   => running,
    enable   => true,
    provider => $service_provider,
  }

  $allowed_ips.each |$ip| {
    firewall { "100 allow http from ${ip}":
      source => $ip,
      dport  => $port,
      proto  => 'tcp',
      action => 'accept',
    }
  }
}

define profile::webserver::vhost (
  String $docroot,
  Integer $port = 80,
) {
  file { $docroot:
    ensure => directory,
    owner  => 'www-data',
  }
}
