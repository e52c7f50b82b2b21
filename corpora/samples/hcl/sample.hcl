# Infrastructure for the inventory service
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "environment" {
  type        = string
  default     = "staging"
  description = "Deployment environment name"
}

variable "instance_count" {
  type    = number
  default = 2
}

locals {
  name_prefix = "inventory-${var.environment}"
  common_tags = {
    Service     = "inventory"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
  ports      = [80, 443, 8080]
  is_prod    = var.environment == "prod"
  disk_ratio = 1.5
}

provider "aws" {
  region = "eu-north-1"
}

resource "aws_security_group" "web" {
  name = "${local.name_prefix}-web"

  dynamic "ingress" {
    for_each = local.ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  tags = merge(local.common_tags, { Name = "web" })
}

resource "aws_instance" "app" {
  count         = local.is_prod ? var.instance_count * 2 : var.instance_count
  ami           = data.aws_ami.ubuntu.id
  instance_type = local.is_prod ? "m5.large" : "t3.small"

  root_block_device {
    volume_size = floor(20 * local.disk_ratio)
  }

  user_data = <<-EOT
    #!/bin/bash
    echo "starting ${local.name_prefix}" > /var/log/boot.log
  EOT

  tags = local.common_tags
}

output "instance_ips" {
  value     = [for inst in aws_instance.app : inst.private_ip]
  sensitive = false
}

output "tagged" {
  value = { for k, v in local.common_tags : lower(k) => v if v != null }
}
