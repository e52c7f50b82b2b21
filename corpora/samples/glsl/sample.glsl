#version 330 core

// Blinn-Phong fragment shader with a single directional light and fog.

#define MAX_LIGHTS 4
#define GAMMA 2.2

struct Light {
    vec3 direction;
    vec3 color;
    float intensity;
};

in vec3 vNormal;
in vec3 vWorldPos;
in vec2 vUv;

uniform sampler2D uAlbedo;
uniform vec3 uCameraPos;
uniform Light uLights[MAX_LIGHTS];
uniform int uLightCount;
uniform float uShininess = 32.0;
uniform vec4 uFogColor;

layout(location = 0) out vec4 fragColor;

const float FOG_DENSITY = 0.035;

vec3 toLinear(vec3 c) {
    return pow(c, vec3(GAMMA));
}

vec3 shade(Light light, vec3 n, vec3 v, vec3 albedo) {
    vec3 l = normalize(-light.direction);
    float diff = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float spec = diff > 0.0 ? pow(max(dot(n, h), 0.0), uShininess) : 0.0;
    return (albedo * diff + vec3(spec)) * light.color * light.intensity;
}

float fogFactor(float dist) {
    float f = exp(-pow(FOG_DENSITY * dist, 2.0));
    return clamp(f, 0.0, 1.0);
}

void main() {
    vec3 n = normalize(vNormal);
    vec3 v = normalize(uCameraPos - vWorldPos);
    vec4 texel = texture(uAlbedo, vUv);
    if (texel.a < 0.1) {
        discard;
    }
    vec3 albedo = toLinear(texel.rgb);

    vec3 color = albedo * 0.05;
    for (int i = 0; i < MAX_LIGHTS; ++i) {
        if (i >= uLightCount) {
            break;
        }
        color += shade(uLights[i], n, v, albedo);
    }

    float dist = length(uCameraPos - vWorldPos);
    color = mix(uFogColor.rgb, color, fogFactor(dist));
    color = pow(color, vec3(1.0 / GAMMA));
    fragColor = vec4(color, texel.a);
}
