// Temperature logger with a status LED and serial commands.
#include <Wire.h>
#include <EEPROM.h>

#define LED_PIN 13
#define SENSOR_PIN A0
#define SAMPLE_INTERVAL_MS 1000UL

const float REFERENCE_VOLTAGE = 5.0;
const int HISTORY_SIZE = 10;

enum class Mode { Idle, Logging, Alarm };

struct Reading {
  unsigned long timestamp;
  float celsius;
};

Reading history[HISTORY_SIZE];
int historyIndex = 0;
Mode mode = Mode::Idle;
unsigned long lastSample = 0;
float alarmThreshold = 30.5;

float readTemperature() {
  int raw = analogRead(SENSOR_PIN);
  float voltage = raw * (REFERENCE_VOLTAGE / 1023.0);
  return (voltage - 0.5) * 100.0;
}

void storeReading(float celsius) {
  history[historyIndex] = { millis(), celsius };
  historyIndex = (historyIndex + 1) % HISTORY_SIZE;
}

float averageTemperature() {
  float sum = 0;
  for (int i = 0; i < HISTORY_SIZE; i++) {
    sum += history[i].celsius;
  }
  return sum / HISTORY_SIZE;
}

void handleCommand(char cmd) {
  switch (cmd) {
    case 's':
      mode = Mode::Logging;
      Serial.println(F("logging started"));
      break;
    case 'x':
      mode = Mode::Idle;
      Serial.println(F("logging stopped"));
      break;
    case 'a':
      Serial.print("average: ");
      Serial.println(averageTemperature(), 2);
      break;
    default:
      Serial.print("unknown command: ");
      Serial.println(cmd);
  }
}

void setup() {
  pinMode(LED_PIN, OUTPUT);
  Serial.begin(9600);
  while (!Serial) {
    ; // wait for the serial port on boards with native USB
  }
  EEPROM.get(0, alarmThreshold);
  Serial.println("ready");
}

void loop() {
  if (Serial.available() > 0) {
    handleCommand((char)Serial.read());
  }
  unsigned long now = millis();
  if (mode != Mode::Idle && now - lastSample >= SAMPLE_INTERVAL_MS) {
    lastSample = now;
    float t = readTemperature();
    storeReading(t);
    mode = t > alarmThreshold ? Mode::Alarm : Mode::Logging;
    digitalWrite(LED_PIN, mode == Mode::Alarm ? HIGH : LOW);
  }
  delay(10);
}
