// Deploys a storage account and an app service plan for a small web workload.
targetScope = 'resourceGroup'

@description('Azure region for all resources')
param location string = resourceGroup().location

@minLength(3)
@maxLength(11)
param namePrefix string = 'webapp'

@allowed([
  'dev'
  'staging'
  'prod'
])
param environment string = 'dev'

param tags object = {
  owner: 'platform-team'
  costCenter: 4210
}

@secure()
param adminPassword string

var storageName = '${namePrefix}${uniqueString(resourceGroup().id)}'
var isProd = environment == 'prod'
var skuName = isProd ? 'Standard_GRS' : 'Standard_LRS'
var containerNames = [
  'uploads'
  'thumbnails'
  'logs'
]

resource storage 'Microsoft.Storage/storageAccounts@2022-09-01' = {
  name: storageName
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2022-09-01' = {
  parent: storage
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2022-09-01' = [for name in containerNames: {
  parent: blobService
  name: name
  properties: {
    publicAccess: 'None'
  }
}]

resource plan 'Microsoft.Web/serverfarms@2022-03-01' = if (isProd) {
  name: '${namePrefix}-plan'
  location: location
  sku: {
    name: 'P1v3'
    capacity: 2
  }
}

module monitoring './monitoring.bicep' = {
  name: 'monitoringDeploy'
  params: {
    location: location
    retentionDays: isProd ? 90 : 30
  }
}

output storageId string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output containerCount int = length(containerNames)
