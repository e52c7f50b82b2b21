// Simple lit shader with normal mapping for a forward renderer.

#define MAX_POINT_LIGHTS 8

cbuffer PerFrame
{
    float4x4 ViewProj;
    float3 CameraPos;
    float Time;
};

cbuffer PerObject
{
    float4x4 World;
    float4 Tint;
};

struct PointLight
{
    float3 Position;
    float Range;
    float3 Color;
    float Intensity;
};

StructuredBuffer<PointLight> Lights : register(t2);
Texture2D AlbedoMap : register(t0);
Texture2D NormalMap : register(t1);
SamplerState LinearSampler : register(s0);

struct VSInput
{
    float3 Position : POSITION;
    float3 Normal : NORMAL;
    float4 Tangent : TANGENT;
    float2 UV : TEXCOORD0;
};

struct PSInput
{
    float4 Position : SV_POSITION;
    float3 WorldPos : TEXCOORD0;
    float3x3 TBN : TEXCOORD1;
    float2 UV : TEXCOORD4;
};

PSInput VSMain(VSInput input)
{
    PSInput output;
    float4 worldPos = mul(World, float4(input.Position, 1.0f));
    output.Position = mul(ViewProj, worldPos);
    output.WorldPos = worldPos.xyz;
    float3 n = normalize(mul((float3x3)World, input.Normal));
    float3 t = normalize(mul((float3x3)World, input.Tangent.xyz));
    float3 b = cross(n, t) * input.Tangent.w;
    output.TBN = float3x3(t, b, n);
    output.UV = input.UV;
    return output;
}

float Attenuate(float dist, float range)
{
    float x = saturate(1.0 - dist / range);
    return x * x;
}

float4 PSMain(PSInput input) : SV_TARGET
{
    float4 albedo = AlbedoMap.Sample(LinearSampler, input.UV) * Tint;
    clip(albedo.a - 0.5);
    float3 nTex = NormalMap.Sample(LinearSampler, input.UV).xyz * 2.0 - 1.0;
    float3 n = normalize(mul(nTex, input.TBN));

    float3 lighting = float3(0.03, 0.03, 0.03);
    [unroll]
    for (uint i = 0; i < MAX_POINT_LIGHTS; i++)
    {
        PointLight light = Lights[i];
        float3 toLight = light.Position - input.WorldPos;
        float dist = length(toLight);
        if (dist > light.Range)
            continue;
        float ndotl = max(dot(n, toLight / dist), 0.0);
        lighting += light.Color * light.Intensity * ndotl * Attenuate(dist, light.Range);
    }

    float pulse = 0.5 + 0.5 * sin(Time * 2.0);
    return float4(albedo.rgb * lighting * lerp(0.9, 1.0, pulse), albedo.a);
}
